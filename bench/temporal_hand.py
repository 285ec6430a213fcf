"""The hand-written peers of bench/temporal.py: the same workflows with the Temporal SDK."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    import bench_handlers as h

STAGES = ["parse", "validate", "enrich", "score", "tag", "dedupe", "rank", "format_", "store", "notify"]
OPTIONS: dict[str, Any] = {
    "start_to_close_timeout": timedelta(hours=1),
    "retry_policy": RetryPolicy(maximum_attempts=1),
}


def _hand_activity(name: str, function: Any) -> Any:
    async def run(*args: Any) -> Any:
        try:
            return await function(*args)
        except Exception as error:
            raise ApplicationError(str(error), type=type(error).__name__, non_retryable=True) from error

    return activity.defn(name=f"hand.{name}")(run)


HAND_ACTIVITIES = [_hand_activity(name, getattr(h, name)) for name in [*STAGES, "work", "ship"]]


@workflow.defn(name="hand.ten")
class HandTen:
    """What a developer writes with the SDK: ten activities in a row."""

    @workflow.run
    async def run(self, x: Any) -> Any:
        for name in STAGES:
            x = await workflow.execute_activity(f"hand.{name}", x, **OPTIONS)
        return x


@workflow.defn(name="hand.book")
class HandBook:
    """A saga by hand: compensations newest first, then one error that says what failed."""

    @workflow.run
    async def run(self, x: Any) -> Any:
        done: list[Any] = []
        step = "held"
        try:
            held = await workflow.execute_activity("hand.work", x, **OPTIONS)
            done.append(("held", held))
            step = "paid"
            paid = await workflow.execute_activity("hand.work", held, **OPTIONS)
            done.append(("paid", paid))
            step = "shipped"
            return await workflow.execute_activity("hand.ship", paid, **OPTIONS)
        except ActivityError as error:
            compensated = []
            for name, value in reversed(done):
                await workflow.execute_activity("hand.work", value, **OPTIONS)
                compensated.append(name)
            raise ApplicationError(
                f"saga book failed at step {step}: {error.cause}", type="SagaFailed", non_retryable=True
            ) from None
