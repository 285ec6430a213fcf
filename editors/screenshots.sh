#!/usr/bin/env bash
# Render examples/order_saga.wf as each editor highlights it and screenshot it with headless
# Chromium into docs/editors/: Vim and Neovim through :TOhtml, VS Code's grammar through
# shiki (the TextMate engine, with VS Code's Light+ theme), and the Pygments lexer.
# Needs: chromium, vim, nvim, node/npm, and wfc installed with its pygments extra.
set -euo pipefail
cd "$(dirname "$0")/.."
sample=examples/order_saga.wf
out=docs/editors
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

shot() {  # HTML PNG
    chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1000,460 \
        --screenshot="$2" "file://$1" >/dev/null 2>&1
}

for editor in vim nvim; do
    "$editor" -u NONE -i NONE -N -es --cmd "set rtp^=$PWD/editors/vim" \
        -c 'filetype plugin indent on' -c 'syntax on' -c 'runtime plugin/tohtml.vim' \
        -c 'set t_Co=256 background=light' -c 'let g:html_no_progress=1' \
        -c "e $sample" -c TOhtml -c "w! $work/$editor.html" -c 'qa!' >/dev/null
done
shot "$work/vim.html" "$out/vim.png"
shot "$work/nvim.html" "$out/neovim.png"

(cd "$work" && npm install --silent --no-audit --no-fund shiki@1 >/dev/null)
cp editors/vscode/screenshot.mjs "$work/"
node "$work/screenshot.mjs" "$PWD/editors/vscode/syntaxes/wf.tmLanguage.json" "$sample" "$work/vscode.html"
shot "$work/vscode.html" "$out/vscode.png"

python - "$sample" "$work/pygments.html" <<'PY'
import sys
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name

source = open(sys.argv[1], encoding="utf-8").read()
html = highlight(source, get_lexer_by_name("wf"), HtmlFormatter(full=True, noclasses=True))
open(sys.argv[2], "w", encoding="utf-8").write(
    html.replace("<body>", '<body style="margin:0;padding:16px;font-size:14px">'))
PY
shot "$work/pygments.html" "$out/pygments.png"
echo "wrote $out/vim.png $out/neovim.png $out/vscode.png $out/pygments.png"
