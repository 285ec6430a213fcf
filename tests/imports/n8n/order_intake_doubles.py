# -- test doubles (tests/imports/n8n/order_intake_doubles.py) --
from import_calls import log


async def fraud_check(*, method=None, url=None, body=None):
    log.append(("fraud_check", {"method": method, "url": url, "body": body}))
    return {"score": 0.25, "amount": body["amount"]}


async def pick_us_warehouse(*, item=None):
    log.append(("pick_us_warehouse", {"item": item}))
    return {**item, "warehouse": "NJ"}
