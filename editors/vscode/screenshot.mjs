import { createHighlighter } from "shiki";
import { readFileSync, writeFileSync } from "node:fs";
const [grammarPath, sourcePath, outPath] = process.argv.slice(2);
const grammar = JSON.parse(readFileSync(grammarPath, "utf8"));
const highlighter = await createHighlighter({
  themes: ["light-plus"],
  langs: [{ ...grammar, name: "wf" }],
});
const html = highlighter.codeToHtml(readFileSync(sourcePath, "utf8"), { lang: "wf", theme: "light-plus" });
writeFileSync(outPath, `<!doctype html><meta charset="utf-8"><style>body{margin:0} pre{margin:0;padding:16px;font:14px/1.45 "DejaVu Sans Mono",monospace}</style>${html}`);
