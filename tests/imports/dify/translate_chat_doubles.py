# -- test doubles (tests/imports/dify/translate_chat_doubles.py) --
from import_calls import log


async def split_sentences(*, text=None):
    log.append(("split_sentences", {"text": text}))
    return {"sentences": [part.strip() + "." for part in text.split(".") if part.strip()]}


async def translate(*, system=None, prompt=None):
    log.append(("translate", {"system": system, "prompt": prompt}))
    return prompt.upper()


async def glossary_lookup():
    log.append(("glossary_lookup", {}))
    return {"result": []}


async def join_translations(*, lines=None):
    log.append(("join_translations", {"lines": lines}))
    return "".join(f"{line}\n" for line in lines)
