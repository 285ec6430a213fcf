"""No limiter ever grants more permits than its algorithm allows, whatever the arrivals."""

from __future__ import annotations

import os

from hypothesis import given, settings, strategies as st

from wfc.runtime import Limit

from test_policies import assert_within, permit_times

EXAMPLES = int(os.environ.get("WFC_PROPERTY_EXAMPLES", "150")) // 3 or 1

limits = st.builds(
    Limit,
    permits=st.integers(1, 6).map(float),
    period=st.sampled_from([0.5, 1.0, 60.0]),
    burst=st.integers(1, 5),
    algorithm=st.sampled_from(["token_bucket", "leaky_bucket", "fixed_window", "sliding_window"]),
    max_wait=st.one_of(st.none(), st.floats(0.0, 5.0)),
)
arrivals = st.lists(st.floats(0.0, 30.0).map(lambda t: round(t, 2)), min_size=1, max_size=60)


@settings(max_examples=EXAMPLES, deadline=None)
@given(limits, arrivals)
def test_permits_stay_within_the_algorithm(limit: Limit, times: list[float]) -> None:
    granted = permit_times(limit, times)
    for arrived, at in zip(times, granted):
        if at is not None:
            assert at >= arrived - 1e-9
            if limit.max_wait is not None:
                assert at - arrived <= limit.max_wait + 1e-9
    assert_within(limit, sorted(at for at in granted if at is not None))
