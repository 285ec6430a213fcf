"""The shipped examples behave as documented, on both backends."""

from __future__ import annotations

import pytest

import fake_llm
import search_sources
import wfc
from conftest import EXAMPLES, run
from wfc.runtime import Runtime, ValidationError, VirtualClock


def load(name: str, backend: str):
    return wfc.load(EXAMPLES / f"{name}.wf", backend=backend)


def test_summary_pipeline(backend) -> None:
    module = load("summary", backend)
    outcome = run(module, "summarize", "First   sentence here. Second one.", max_length=2)
    assert outcome.value == {"summary": "First sentence", "words": 5, "length": 2, "style": "concise"}
    assert fake_llm.calls[-1] == "Summarise in a concise style, at most 2 words:\nFirst sentence here. Second one."
    assert [e.name for e in outcome.events if e.kind == "stage.end"] == ["transform", "llm", "measure"]


def test_summary_bullets_style(backend) -> None:
    outcome = run(load("summary", backend), "summarize", "One. Two.", style="bullets")
    assert outcome.value["summary"] == "- One\n- Two"


def test_summary_validation(backend) -> None:
    module = load("summary", backend)
    empty = run(module, "summarize", "   ")
    assert isinstance(empty.error, ValidationError) and str(empty.error) == "content is required"
    style = run(module, "summarize", "x", style="poem")
    assert str(style.error) == "unknown style 'poem'; use one of concise, detailed, bullets"


def test_aggregate_fans_out_with_bounded_concurrency(backend) -> None:
    module = load("aggregate", backend)
    search_sources.peak_in_flight = 0
    outcome = run(module, "aggregate", "wf", concurrency=2, top=2)
    assert outcome.value["sources"] == ["web", "news", "papers", "wiki"]  # forums failed, skipped
    assert outcome.value["count"] == 12
    assert [hit["score"] for hit in outcome.value["top"]] == [39, 38]
    assert search_sources.peak_in_flight == 2
    # two workers on the virtual clock: web (0.02) then papers (0.05); news (0.03),
    # forums (0.01, fails) then wiki (0.01): done at 0.07
    assert outcome.now == pytest.approx(0.07)
    assert ("emit", "search.done") in [(e.kind, e.name) for e in outcome.events]


def test_aggregate_unbounded_runs_everything_at_once(backend) -> None:
    search_sources.peak_in_flight = 0
    outcome = run(load("aggregate", backend), "aggregate", "wf", concurrency=10)
    assert search_sources.peak_in_flight == 5 and outcome.now == pytest.approx(0.05)


def test_aggregate_requires_a_query(backend) -> None:
    outcome = run(load("aggregate", backend), "aggregate", " ")
    assert str(outcome.error) == "query is required"


def test_resilient_api_serves_live_forecasts_and_books_once(backend) -> None:
    import weather_api

    weather_api.configure()
    module = load("resilient_api", backend)
    rt = Runtime(clock=VirtualClock())
    assert run(module, "forecast", "Oslo", rt=rt).value == {
        "city": "Oslo", "summary": "clear skies over Oslo", "source": "live"}
    cities = [f"c{n}" for n in range(12)]
    many = run(module, "forecasts", cities, rt=rt)
    assert [report["city"] for report in many.value] == cities
    # 12 calls through the shared 5/s limiter: 4 tokens are left of the burst of 5, 8 wait
    assert sum(e.kind == "limit.wait" for e in many.events) == 8
    bookings = [run(module, "book", "trip-1", "Oslo", rt=rt).value for _ in range(3)]
    assert bookings == [{"trip": "trip-1", "city": "Oslo", "number": 1}] * 3
    assert [call[:2] for call in weather_api.calls].count(("book", "trip-1")) == 1
    assert isinstance(run(module, "forecast", " ", rt=rt).error, ValidationError)


def test_resilient_api_scenarios(backend) -> None:
    import resilient_scenarios

    flaky = resilient_scenarios.flaky_service(backend)
    assert flaky["answered"] + flaky["failed"] == 20
    assert flaky["calls"] == flaky["answered"] + flaky["retries"] + flaky["failed"]
    assert flaky["failed"] >= 1 and flaky["answered"] >= 12  # 1 - 0.8**10 = 89% expected
    timeline = resilient_scenarios.breaker_recovers(backend)
    kinds = [what for _, what, _ in timeline]
    assert kinds == [
        "before the outage: live", "breaker.open", "breaker.reject", "fallback", "outage begins: cache",
        "breaker.reject", "fallback", "during the outage: cache", "breaker.half_open",
        "service back: live", "breaker.close", "second success: live",
    ]


TRIP = {"flight": "LH123", "traveller": "Ada", "hotel": "Ritz", "nights": 2, "city": "Paris", "card": "4242"}


def test_travel_booking_books_through_a_busy_provider(backend) -> None:
    import travel

    travel.reset()
    travel.SCENARIO["throttled"] = 3  # three 429s: retried after 200ms, 400ms, 800ms
    outcome = run(load("travel_booking", backend), "book", TRIP)
    assert outcome.value == {"status": "booked",
                             "booking": {"flight": "F1", "hotel": "H2", "car": "C3", "total": 420 + 180 + 70}}
    assert [e.fields["delay"] for e in outcome.events if e.kind == "retry"] == [0.2, 0.4, 0.8]
    assert outcome.now == pytest.approx(1.4)
    assert sorted(travel.BOOKINGS) == ["C3", "F1", "H2"]


def test_travel_booking_names_what_failed_and_undoes_the_rest(backend) -> None:
    import travel

    module = load("travel_booking", backend)
    travel.reset()
    travel.SCENARIO["full_flights"].add("LH123")
    assert run(module, "book", TRIP).value == {"status": "sold out", "flight": "LH123"}
    travel.reset()
    travel.SCENARIO["declined_cards"].add("4242")
    declined = run(module, "book", TRIP)
    assert declined.value == {"status": "declined", "reason": "card declined by issuer", "code": 402}
    assert travel.BOOKINGS == {}  # car, hotel and flight cancelled, newest first
    assert [line.split()[0] for line in travel.LOG[-3:]] == ["cancel"] * 3
    assert [e.name for e in declined.events if e.kind == "compensate.end"] == ["car", "hotel", "flight"]
    direct = run(module, "book_trip", TRIP)  # the saga itself: SagaFailed, its error named
    assert type(direct.error.error) is module.PaymentDeclined and direct.error.error.code == 402


def test_quorum_decides_on_the_first_two_answers(backend) -> None:
    import quotes

    quotes.DOWN.clear()
    module = load("quorum", backend)
    outcome = run(module, "best_price", "tea")
    # south (0.1s) and east (0.2s) answer first; north (0.3s) is cancelled
    assert outcome.value == {"price": 102, "quotes": {"north": None, "south": 102, "east": 104}}
    assert outcome.now == pytest.approx(0.2)
    quotes.DOWN.add("south")  # one down: the other two still make the quorum
    assert run(module, "best_price", "tea").value == {
        "price": 104, "quotes": {"north": 108, "south": None, "east": 104}}
    quotes.DOWN.add("east")  # two down: no quorum, and both errors are attached
    failed = run(module, "best_price", "tea").error
    assert type(failed).__name__ == "BranchesFailed" and [str(e) for e in failed.errors] == [
        "south is down", "east is down"]
    quotes.DOWN.clear()


def test_pipeline_dag_runs_each_step_after_its_inputs(backend) -> None:
    import build_steps

    build_steps.TIMELINE.clear()
    outcome = run(load("pipeline_dag", backend), "release", "abc123")
    assert outcome.value["url"] == "https://packages.example/src@abc123.whl"
    # checkout 0-1; build 1-4 and document 1-3 (both need only the source); test 4-8;
    # publish 8-9, once test and docs are done
    assert build_steps.TIMELINE == [
        (0.0, "start checkout"), (1.0, "end checkout"), (1.0, "start build"), (1.0, "start document"),
        (3.0, "end document"), (4.0, "end build"), (4.0, "start test"), (8.0, "end test"),
        (8.0, "start publish"), (9.0, "end publish")]
    assert outcome.now == 9.0


# ---- expense_approval.wf: where, a bulkhead, a failure-rate breaker, select, unwind ----
CLAIM = {"team": "ops", "employee": "ann", "total": 2700.0, "lines": [
    {"item": "laptop", "amount": 1900}, {"item": "taxi", "amount": 40},
    {"item": "monitor", "amount": 600}, {"item": "hotel", "amount": 700}, {"item": "lunch", "amount": 20}]}


def review(backend, tmp_path, decision=None, at=3600.0, name="claim"):
    import asyncio

    import approvals
    from wfc.runtime import SqliteStore

    approvals.log.clear()
    approvals.peak_in_flight = 0
    module = load("expense_approval", backend)

    async def scenario():
        rt = Runtime(clock=VirtualClock(), store=SqliteStore(tmp_path / f"{backend}-{name}.db"))
        started = await rt.start(module.review, CLAIM, run_id="claim-1")
        if decision is not None:
            await rt.clock.sleep(at)
            await started.signal("decision", decision)
        try:
            return await started.result(), rt.clock.now()
        except Exception as exc:  # the test looks at it
            return exc, rt.clock.now()

    return asyncio.run(scenario())


def test_expense_approval_checks_large_lines_two_at_a_time_then_pays(backend, tmp_path) -> None:
    import approvals

    approvals.FAIL_TRANSFER = False
    result, _ = review(backend, tmp_path, {"approved": True, "by": "bob"})
    assert result == {"status": "paid", "transfer": "tx-ann"}
    checked = [entry[1] for entry in approvals.log if entry[0] == "check"]
    assert sorted(checked) == ["hotel", "laptop", "monitor"]  # `where` left the small lines out
    assert approvals.peak_in_flight == 2  # the bulkhead, though the loop allows 4


def test_expense_approval_rejects_or_expires(backend, tmp_path) -> None:
    result, _ = review(backend, tmp_path, {"approved": False, "by": "bob"})
    assert result["status"] == "rejected" and result["by"] == "bob" and len(result["flagged"]) == 3
    result, now = review(backend, tmp_path, None, name="late")
    assert result["status"] == "expired" and now == 2 + 48 * 3600  # two rounds of checks, then 48h


def test_expense_approval_reverses_a_transfer_that_failed_half_way(backend, tmp_path) -> None:
    import approvals

    approvals.FAIL_TRANSFER = True
    try:
        error, _ = review(backend, tmp_path, {"approved": True, "by": "bob"})
    finally:
        approvals.FAIL_TRANSFER = False
    assert type(error).__name__ == "SagaFailed" and error.compensated == ["transfer", "hold"]
    assert approvals.log[-2:] == [("reverse", "ann", 2700.0), ("release", "hold-ops")]
