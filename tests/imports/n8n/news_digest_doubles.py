# -- test doubles (tests/imports/n8n/news_digest_doubles.py) --
from import_calls import log

STORIES = [
    {"title": "Rust 2.0", "url": "https://e.x/1", "score": 90},
    {"title": "Quiet day", "url": "https://e.x/2", "score": 10},
    {"title": "", "url": "https://e.x/3", "score": 70},
    {"title": "wf 1.0", "url": "https://e.x/4", "score": 50},
]


async def fetch_stories(*, method=None, url=None, query=None):
    log.append(("fetch_stories", {"method": method, "url": url, "query": query}))
    return STORIES


async def summarise(*, prompt=None):
    log.append(("summarise", {"prompt": prompt}))
    return f"  {prompt.split(': ', 1)[1]}  "


async def build_digest(*, item=None):
    log.append(("build_digest", {"item": item}))
    return {"text": "\n".join(f"- {line['title']}: {line['summary']}" for line in item)}


async def post_digest(*, method=None, url=None, body=None):
    log.append(("post_digest", {"method": method, "url": url, "body": body}))
    return {"ok": True, "posted": body}
