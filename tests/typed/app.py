"""An application that imports generated modules and uses their results, as a
typed service would: `mypy --strict` must accept it (tests/test_typed_output.py)."""

from __future__ import annotations

import asyncio

from order_machine_wf import Order
from summary_wf import summarize
from wfc.runtime import Runtime, SagaFailed


async def summary_words(text: str) -> int:
    result = await summarize(text, max_length=20)
    words: int = result["words"]
    return words


async def ship(order_id: str) -> str:
    order = Order(order_id)
    if await order.send("pay", {"amount": 10}):
        return order.state
    return "unpaid"


def main() -> None:
    with Runtime().activate():
        print(asyncio.run(summary_words("wfc turns workflow files into asyncio Python.")))
    try:
        print(asyncio.run(ship("o-1")))
    except SagaFailed as error:
        print(error.step)


if __name__ == "__main__":
    main()
