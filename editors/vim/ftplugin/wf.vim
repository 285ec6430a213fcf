" wf: comments, indentation and `:make` running `wfc check` into the quickfix list.
if exists("b:did_ftplugin")
  finish
endif
let b:did_ftplugin = 1

setlocal commentstring=#\ %s comments=:#
setlocal expandtab shiftwidth=4 softtabstop=4
setlocal suffixesadd=.wf
setlocal makeprg=wfc\ check\ %
" `file.wf:3:5: error[E0104]: message` (and warning[...], hint[...]); the rest is context
setlocal errorformat=%f:%l:%c:\ %trror[%*[^]]]:\ %m,%f:%l:%c:\ %tarning[%*[^]]]:\ %m,%f:%l:%c:\ hint[%*[^]]]:\ %m,%-G%.%#

let b:undo_ftplugin = "setlocal commentstring< comments< expandtab< shiftwidth< softtabstop<"
      \ . " suffixesadd< makeprg< errorformat<"
