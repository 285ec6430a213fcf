# -- test doubles (tests/imports/dify/support_triage_doubles.py) --
from import_calls import log


async def classify_ticket(*, query=None, classes=None):
    log.append(("classify_ticket", {"query": query, "classes": classes}))
    if "invoice" in query:
        return "Billing"
    return "Technical" if "error" in query else "Other"


async def billing_reply(*, system=None, prompt=None):
    log.append(("billing_reply", {"system": system, "prompt": prompt}))
    return "We refunded the invoice."


async def search_knowledge_base(*, method=None, url=None, headers=None, params=None):
    log.append(
        ("search_knowledge_base", {"method": method, "url": url, "headers": headers, "params": params})
    )
    return {"body": '{"hits": [{"title": "Reset"}]}', "status_code": 200, "headers": {}}


async def top_articles(*, body=None):
    log.append(("top_articles", {"body": body}))
    return {"articles": "Reset"}


async def technical_reply(*, system=None, prompt=None):
    log.append(("technical_reply", {"system": system, "prompt": prompt}))
    return "Try a reset."
