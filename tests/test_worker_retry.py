"""retry_delay: exponential backoff with jitter, capped (a pure function)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from worker.retry import retry_delay


def test_the_ceiling_doubles_per_attempt_and_the_jitter_spans_its_upper_half() -> None:
    assert [retry_delay(n, 10, 3600, rand=lambda: 0.0) for n in range(1, 6)] == [5, 10, 20, 40, 80]
    assert [retry_delay(n, 10, 3600, rand=lambda: 1.0) for n in range(1, 6)] == [10, 20, 40, 80, 160]


def test_the_cap_holds_for_any_attempt() -> None:
    assert retry_delay(9, 10, 3600, rand=lambda: 1.0) == 2560
    assert retry_delay(10, 10, 3600, rand=lambda: 1.0) == 3600
    assert retry_delay(10_000, 10, 3600, rand=lambda: 1.0) == 3600
    assert retry_delay(10_000, 10, 3600, rand=lambda: 0.0) == 1800


def test_at_least_one_second_for_set_vt() -> None:
    assert retry_delay(1, 0.1, 0.1, rand=lambda: 0.0) == 1


def test_the_jitter_actually_varies() -> None:
    assert len({retry_delay(6, 10, 3600) for _ in range(50)}) > 5


@pytest.mark.parametrize(
    ("attempt", "base", "cap", "message"),
    [(0, 10, 60, "attempt starts at 1"), (1, 0, 60, "base_seconds"), (1, 10, 5, "max_seconds")],
)
def test_nonsense_is_refused(attempt: int, base: float, cap: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        retry_delay(attempt, base, cap)


@given(
    attempt=st.integers(min_value=1, max_value=100_000),
    base=st.floats(min_value=0.01, max_value=600),
    extra=st.floats(min_value=0, max_value=86_400),
    r=st.floats(min_value=0, max_value=1),
)
def test_bounds(attempt: int, base: float, extra: float, r: float) -> None:
    cap = base + extra
    ceiling = min(cap, base * 2.0 ** min(attempt - 1, 1023))
    delay = retry_delay(attempt, base, cap, rand=lambda: r)
    assert isinstance(delay, int)
    assert max(1, math.floor(ceiling / 2)) <= delay <= max(1, math.ceil(cap))
    assert delay <= max(1, math.ceil(ceiling))


@given(attempt=st.integers(min_value=1, max_value=200), r=st.floats(min_value=0, max_value=1))
def test_never_shorter_for_a_later_attempt_with_the_same_draw(attempt: int, r: float) -> None:
    assert retry_delay(attempt + 1, 10, 3600, rand=lambda: r) >= retry_delay(
        attempt, 10, 3600, rand=lambda: r
    )
