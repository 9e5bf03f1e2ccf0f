"""Time zone validation: what one check costs for a good and for a bad name.

    .venv/bin/python bench/timezone_validation.py [DATABASE_URL] [--iterations 300]

DATABASE_URL defaults to $TEST_DATABASE_URL (a migrated database; nothing is written).
Each name is checked --iterations times per variant (names interleaved, the variants one
after the other), one statement per round trip:

    is_valid_timezone   private.is_valid_timezone(name) as the database has it now
    old fallback        the check as it was before 20261125150100 (snapshot lookup, then a
                        scan of pg_timezone_names for a name outside the snapshot): the baseline

It prints the median and p95 per call in ms and, per name, the ratio of the current check
to the baseline and to a good name's current cost. A benchmark reports; it exits 0 whatever
the figures.
"""

from __future__ import annotations

import argparse
import os
import time

import psycopg
from harness import median as median_of
from harness import p95 as p95_of

NAMES = ["Europe/Paris", "UTC", "posix/Europe/Paris", "localtime", "Not/A_Zone"]
CURRENT = "select private.is_valid_timezone(%s)"
OLD_FALLBACK = (
    "select %s::text is not null and ("
    " exists (select 1 from private.timezone_names as t where t.name = %s)"
    " or exists (select 1 from pg_catalog.pg_timezone_names as tz where tz.name = %s))"
)


def timed(conn: psycopg.Connection, query: str, params: list[str]) -> float:
    start = time.perf_counter()
    conn.execute(query, params).fetchone()
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("url", nargs="?", default=os.environ.get("TEST_DATABASE_URL"))
    parser.add_argument("--iterations", type=int, default=300)
    args = parser.parse_args()
    if not args.url:
        parser.error("give DATABASE_URL or set TEST_DATABASE_URL")

    samples: dict[tuple[str, str], list[float]] = {}
    with psycopg.connect(args.url, autocommit=True) as conn:
        # One variant after the other: a call right after an 80 ms scan is measurably slower
        # on a loaded machine, so interleaving them would charge the scan to the cheap check.
        for variant, query in (("is_valid_timezone", CURRENT), ("old fallback", OLD_FALLBACK)):
            for iteration in range(args.iterations + 10):
                for name in NAMES:
                    elapsed = timed(conn, query, [name] * query.count("%s"))
                    if iteration >= 10:  # warm-up discarded
                        samples.setdefault((variant, name), []).append(elapsed)
        valid = {name: conn.execute(CURRENT, [name]).fetchone()[0] for name in NAMES}

    def median(variant: str, name: str) -> float:
        return median_of(samples[(variant, name)])

    def p95(variant: str, name: str) -> float:
        return p95_of(samples[(variant, name)])

    good = median("is_valid_timezone", NAMES[0])
    print(f"time zone validation, {args.iterations} calls per name and variant (ms per call, round trip)")
    print(
        f"{'name':<20} {'valid':<6} {'now median':>11} {'now p95':>8} {'old median':>11} {'old p95':>8}"
        f" {'now/old':>8} {'now/good':>9}"
    )
    for name in NAMES:
        now, old = median("is_valid_timezone", name), median("old fallback", name)
        print(
            f"{name:<20} {valid[name]!s:<6} {now:>11.3f} {p95('is_valid_timezone', name):>8.3f}"
            f" {old:>11.3f} {p95('old fallback', name):>8.3f} {now / old:>8.2f} {now / good:>9.2f}"
        )


if __name__ == "__main__":
    main()
