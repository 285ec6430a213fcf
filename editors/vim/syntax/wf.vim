" Vim syntax file
" Language: wf (the workflow language of wfc)
" Filenames: *.wf
if exists("b:current_syntax")
  finish
endif

syn keyword wfKeyword use as stage route step compensate state on do when parallel for in
syn keyword wfKeyword while repeat until break continue yield return fail require else if
syn keyword wfKeyword elif try catch with emit wait and or not
syn keyword wfDeclaration workflow saga router machine policy const nextgroup=wfDeclName skipwhite
syn match wfDeclName "\h\w*" contained
" `error NAME` at the start of a line declares an error type (`error` is a soft keyword)
syn match wfDeclaration "^error\ze\s\+\h" nextgroup=wfDeclName skipwhite
syn keyword wfConstant true false null
" soft keywords: keywords where the grammar expects them, names elsewhere (`max(a, b)`,
" `limit = 3`, `x.timeout`, a parameter `max: int`)
syn match wfSoftKeyword "\<data\>\ze\s*{"
syn match wfSoftKeyword "\<\%(all\|default\|enter\|error\|exit\|final\|first\|initial\|limit\|max\|priority\|receive\|skip\|timeout\|weight\|weighted\|quorum\|none\|where\|unwind\|select\|after\|deep\|history\|invoke\|region\|send\)\>\%(\s*\%(=[^=]\|\.\|(\|:\)\)\@!"
syn match wfPolicy "\<\%(retry\|timeout\|breaker\|limit\|idempotent\|fallback\)\ze\s*("
syn match wfBuiltin "\<\%(len\|str\|int\|float\|bool\|list\|map\|keys\|values\|items\|range\|min\|max\|sum\|abs\|round\|lower\|upper\|strip\|split\|join\|chunks\|now\|uuid\|attempt\|matches\|regex\|any\)\ze\s*("
syn keyword wfErrorType BranchesFailed CircuitOpen RateLimited SagaFailed ValidationError WorkflowError WorkflowFailed
syn keyword wfErrorType TimeoutError ValueError KeyError TypeError ZeroDivisionError ConnectionError LookupError RuntimeError
" policy arguments and map keys: `attempts: 3`, `{id: 1}`
syn match wfArgument "\<\h\w*\ze\s*:[^:]"
" names that label things: steps, routes, stages, states, events, signals, topics
syn match wfLabel "\%(\<step\s\+\)\@<=\h\w*\ze\s*=[^=]"
syn match wfLabel "\%(\<\%(route\|stage\|state\|receive\|initial\)\s\+\)\@<=\%(when\>\|priority\>\|weight\>\|do\>\|with\>\|timeout\>\)\@!\h\w*"
syn match wfLabel "\%(\<on\s\+\)\@<=\h\w*\ze\s*->"
syn match wfLabel "\%(->\s*\)\@<=\h\w*\%(\s*\%(when\>\|do\>\|$\)\)\@="
syn match wfLabel "\%(\<emit\s\+\)\@<=\h\w*\%(\.\h\w*\)*"
syn match wfNumber "\<\%(\d\+\%(_\d\+\)*\%(\.\d\+\)\=\|\.\d\+\)\%([eE][+-]\=\d\+\)\="
syn match wfDuration "\<\%(\d\+\%(_\d\+\)*\%(\.\d\+\)\=\|\.\d\+\)\%([eE][+-]\=\d\+\)\=\%(ms\|s\|m\|h\)\>"
syn match wfRate "\<\%(\d\+\%(_\d\+\)*\%(\.\d\+\)\=\|\.\d\+\)\%([eE][+-]\=\d\+\)\=/\%(s\|m\|h\)\>"
syn match wfOperator "->\|??\|?\.\|==\|!=\|<=\|>=\|//\|[-+*/%<>=]"
syn match wfEscape "\\\%(N{[^}]*}\|x\x\{2}\|u\x\{4}\|U\x\{8}\|.\)" contained
syn region wfString start=+"+ skip=+\\\\\|\\"+ end=+"+ contains=wfEscape oneline
syn region wfFString matchgroup=wfString start=+\<f"+ skip=+\\\\\|\\"+ end=+"+ contains=wfEscape,wfFieldEscape,wfField oneline
syn match wfFieldEscape "{{\|}}" contained
syn region wfField matchgroup=wfInterpolation start="{" end="}" contained contains=wfNumber,wfDuration,wfRate,wfConstant,wfBuiltin,wfOperator,wfSingleString,wfFormatSpec,wfKeyword
syn match wfFormatSpec ":[^}\"]*\ze}" contained
syn region wfSingleString start=+'+ end=+'+ contained oneline
" a string alone on its line: a docstring (the first one of a body is)
syn match wfDocString +^\s*\zs"\%([^"\\]\|\\.\)*"\ze\s*$+
syn match wfComment "#.*$" contains=wfTodo
syn keyword wfTodo TODO FIXME XXX contained

hi def link wfKeyword Keyword
hi def link wfDeclaration Keyword
hi def link wfDeclName Function
hi def link wfConstant Constant
hi def link wfSoftKeyword Keyword
hi def link wfPolicy Function
hi def link wfBuiltin Function
hi def link wfErrorType Type
hi def link wfArgument Identifier
hi def link wfLabel Label
hi def link wfNumber Number
hi def link wfDuration Number
hi def link wfRate Number
hi def link wfOperator Operator
hi def link wfEscape SpecialChar
hi def link wfFieldEscape SpecialChar
hi def link wfString String
hi def link wfSingleString String
hi def link wfFString String
hi def link wfInterpolation Special
hi def link wfFormatSpec Special
hi def link wfDocString SpecialComment
hi def link wfComment Comment
hi def link wfTodo Todo

let b:current_syntax = "wf"
