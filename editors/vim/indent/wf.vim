" wf: one level in after an opening `{`, one out at a closing `}`; a `compensate` line
" stands one level in from its `step`.
if exists("b:did_indent")
  finish
endif
let b:did_indent = 1

setlocal indentexpr=WfIndent(v:lnum) indentkeys=0},0{,!^F,o,O,e,=compensate
setlocal autoindent

if exists("*WfIndent")
  finish
endif

function! WfIndent(lnum) abort
  let prev = prevnonblank(a:lnum - 1)
  if prev == 0
    return 0
  endif
  let prev_text = substitute(getline(prev), '\s*#.*$', '', '')
  let text = getline(a:lnum)
  let ind = indent(prev)
  if prev_text =~# '^\s*compensate\>'
    let ind -= shiftwidth()
  endif
  if prev_text =~# '{\s*$'
    let ind += shiftwidth()
  endif
  if text =~# '^\s*}'
    let ind -= shiftwidth()
  endif
  if text =~# '^\s*compensate\>'
    let ind += shiftwidth()
  endif
  return ind < 0 ? 0 : ind
endfunction
