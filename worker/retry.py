"""When a failed job comes back: exponential backoff with jitter, capped. Pure, so it is tested alone."""

from __future__ import annotations

import math
import random
from collections.abc import Callable


def retry_delay(
    attempt: int,
    base_seconds: float,
    max_seconds: float,
    rand: Callable[[], float] = random.random,
) -> int:
    """Seconds before attempt `attempt + 1`, after `attempt` (1-based) failed.

    The ceiling doubles per attempt from `base_seconds` and stops at `max_seconds`; the delay is
    drawn uniformly from its upper half ("equal jitter"), so retries of jobs that failed together
    spread out while each still waits at least half the ceiling. Whole seconds (pgmq.set_vt takes
    an integer), at least 1.
    """
    if attempt < 1:
        raise ValueError("attempt starts at 1")
    if base_seconds <= 0 or max_seconds < base_seconds:
        raise ValueError("need 0 < base_seconds <= max_seconds")
    # 2 ** 1023 is the largest power a float holds; past the cap the exponent no longer matters.
    ceiling = min(max_seconds, base_seconds * 2.0 ** min(attempt - 1, 1023))
    delay = ceiling / 2 + rand() * ceiling / 2
    return max(1, min(math.ceil(delay), math.ceil(max_seconds)))
