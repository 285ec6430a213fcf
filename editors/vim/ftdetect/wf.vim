" wf workflow files (wfc)
autocmd BufRead,BufNewFile *.wf setfiletype wf
