" Writes, for every line of the buffer, the syntax group of each run of characters.
function! DumpSyntax(out) abort
  let lines = []
  for lnum in range(1, line('$'))
    let text = getline(lnum)
    let runs = []
    let current = ''
    let start = 1
    for col in range(1, len(text) + 1)
      let name = col <= len(text) ? synIDattr(synID(lnum, col, 1), 'name') : '<end>'
      if name !=# current
        if current !=# '' && col > start
          call add(runs, printf('%s[%d-%d]', current, start, col - 1))
        endif
        let current = name
        let start = col
      endif
    endfor
    call add(lines, printf('%d: %s', lnum, join(runs, ' ')))
  endfor
  call writefile(lines, a:out)
endfunction
