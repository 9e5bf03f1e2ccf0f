"""RLS overhead: listing 50 of a workspace's rows as a member vs the same query as service_role.

    .venv/bin/python bench/rls_overhead.py [ADMIN_URL] [--workspaces 100]
        [--rows-per-workspace 10000] [--iterations 300] [--warmup 30] [--case NAME] [--keep]

ADMIN_URL is a superuser URL of the test cluster (default: $TEST_DATABASE_URL); `make bench`
passes the cluster's supabase_admin over the Unix socket,
postgresql://supabase_admin@/postgres?host=/var/run/postgresql&port=54330. Only its host, port and
credentials are used: the benchmark (re)creates its own database `careops_bench` as a
clone of the migrated template `careops_template` (`make test-db` builds it), seeds it
with set-based SQL, measures, and drops it again unless --keep is given. It never
touches the `postgres` database the tests use.

Per case (one tenant table each, see Case and CASES) three variants of the listing run
interleaved in random order within every iteration, each as one transaction the way
PostgREST runs a request (begin; set local role; request.jwt.claims; query; commit):

    service_role  the filtered query as service_role (bypasses RLS): the baseline
    rls+filter    the same query as a member (RLS applies, the explicit filter too)
    rls-only      the query without the workspace filter as a member (RLS alone filters)

It prints median and p95 of each, their ratio to the baseline, the EXPLAIN (ANALYZE,
BUFFERS) of the queries, and one summary line per case. A benchmark reports; it exits 0
whatever the ratios, and 1 only when a sanity check fails (wrong row counts, different
rows under RLS than as service_role, RLS not filtering).
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import random
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from harness import (
    SanityError,
    check,
    clone_template,
    drop_database,
    median,
    p95,
    ratio_line,
    with_database,
)
from psycopg import sql
from psycopg.abc import Query

BENCH_DB = "careops_bench"
TARGET_RATIO = 1.5
TARGETED_VARIANT = "rls+filter"
PAGE_SIZE = 50
SERVICE_CLAIMS = '{"role":"service_role"}'


# --- cases ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scale:
    workspaces: int
    rows_per_workspace: int

    @property
    def total_rows(self) -> int:
        return self.workspaces * self.rows_per_workspace


@dataclass(frozen=True)
class Case:
    """One tenant table to measure; adding one is a seed function and an entry in CASES.

    `seed` fills `table` (as postgres, set-based, rows_per_workspace rows per workspace)
    once users, workspaces and memberships exist (seed_tenants: user `bench-owner-n`
    owns workspace slug `bench-ws-n`). The RLS variants act as a `member_role` member
    of the workspace: `owner` exists; a case needing `staff` adds them in its seed.
    `listing_sql` takes %(workspace_id)s; `unfiltered_sql` is the same listing without
    the workspace filter. Both must return PAGE_SIZE rows in a total order (seeded
    members belong to one workspace each, so every variant must return the same rows).
    """

    name: str
    table: str
    seed: Callable[[psycopg.Connection, Scale], None]
    member_role: str
    listing_sql: str
    unfiltered_sql: str
    tenant_column: str = "workspace_id"  # checked once: a member sees one workspace's rows


def spread_created_at(scale: Scale, row_number: str) -> str:
    """SQL for a created_at over the last year, unique per row, each workspace's rows spread
    over the whole year and interleaved with the others' (as rows arrive in a live table):
    row i gets slot (i * p) mod N of N, p coprime to N near N / golden ratio."""
    total = scale.total_rows
    step = round(total * 0.6180339887)
    while math.gcd(step, total) != 1:
        step += 1
    seconds = max(1, 365 * 24 * 3600 // total)
    slot = f"mod({row_number} * {step}, {total})"
    return f"now() - interval '1 hour' - make_interval(secs => {slot} * {seconds})"


def seed_invitations(conn: psycopg.Connection, scale: Scale) -> None:
    """rows_per_workspace invitations per workspace, pending, inserted in created_at order
    (as a live table grows) so workspaces interleave on the heap."""
    conn.execute(
        f"""
        insert into public.invitations
            (workspace_id, email, role, token_hash, invited_by, expires_at, created_at)
        select
            w.id,
            'guest-' || g.n || '@example.test',
            case when mod(g.n, 10) = 0 then 'owner' else 'staff' end,
            sha256(convert_to(g.n::text, 'UTF8')),
            w.created_by,
            now() + make_interval(days => 1 + mod(g.n, 30)::int),
            {spread_created_at(scale, "g.n")}
        from generate_series(0::bigint, %(total)s::bigint - 1) as g (n)
        inner join public.workspaces as w
            on w.slug = 'bench-ws-' || (g.n / %(per_workspace)s + 1)
        order by 7
        """,
        {"total": scale.total_rows, "per_workspace": scale.rows_per_workspace},
    )


CASES: dict[str, Case] = {
    case.name: case
    for case in [
        Case(
            name="invitations",
            table="public.invitations",
            seed=seed_invitations,
            member_role="owner",  # only owners read invitations
            listing_sql="select * from public.invitations where workspace_id = %(workspace_id)s"
            " order by created_at desc limit 50",
            unfiltered_sql="select * from public.invitations order by created_at desc limit 50",
        ),
    ]
}


# --- database ---------------------------------------------------------------------------


def scalar(conn: psycopg.Connection, query: Query, params: Sequence[Any] = ()) -> Any:
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return row[0]


def seed_tenants(conn: psycopg.Connection, scale: Scale) -> None:
    """Owners as GoTrue inserts them (the profiles trigger fires), active workspaces, and
    one owner membership each: user n owns workspace `bench-ws-n`."""
    params = {"workspaces": scale.workspaces}
    conn.execute(
        """
        insert into auth.users
            (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
             raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
        select
            '00000000-0000-0000-0000-000000000000', gen_random_uuid(), 'authenticated',
            'authenticated', 'bench-owner-' || n || '@example.test', '', now(),
            '{"provider": "email", "providers": ["email"]}',
            jsonb_build_object('full_name', 'Bench owner ' || n), now(), now()
        from generate_series(1, %(workspaces)s) as n
        """,
        params,
    )
    conn.execute(
        """
        insert into public.workspaces (name, slug, timezone, status, created_by)
        select 'Bench workspace ' || n, 'bench-ws-' || n, 'Europe/Paris', 'active', u.id
        from generate_series(1, %(workspaces)s) as n
        inner join auth.users as u on u.email = 'bench-owner-' || n || '@example.test'
        """,
        params,
    )
    conn.execute(
        """
        insert into public.workspace_members (workspace_id, user_id, role)
        select w.id, w.created_by, 'owner' from public.workspaces as w
        where w.slug like 'bench-ws-%'
        """
    )


def skip_fk_checks(conn: psycopg.Connection, table: str) -> None:
    """Load `table` without its per-row foreign-key checks (two lookups a row for
    invitations: 40 % of the load time), as pg_restore --disable-triggers does. Seeds build
    rows by joining their parents, so they are consistent by construction. Replica mode
    silences user triggers too: tables that have any are loaded with checks on."""
    triggers = scalar(
        conn,
        "select count(*) from pg_trigger where tgrelid = %s::regclass and not tgisinternal",
        [table],
    )
    if triggers == 0:
        conn.execute("set local session_replication_role = replica")


def seed(url: str, case: Case, scale: Scale) -> None:
    tables = ["auth.users", "public.profiles", "public.workspaces", "public.workspace_members"]
    if case.table not in tables:
        tables.append(case.table)
    started = time.perf_counter()
    with psycopg.connect(url) as conn:
        conn.execute("set local work_mem = '256MB'")  # sorts of seed rows stay in memory
        seed_tenants(conn, scale)
        skip_fk_checks(conn, case.table)
        case.seed(conn, scale)
    inserted = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        # vacuum (not only analyze): sets hint bits and the visibility map now, so neither
        # the first reads nor autovacuum on a freshly loaded table disturb the measurement.
        names = [sql.SQL(t) for t in tables]
        conn.execute(sql.SQL("vacuum (analyze) {}").format(sql.SQL(", ").join(names)))
        done = time.perf_counter()
        count_sql = sql.SQL("select count(*) from {}")
        counts = {t: scalar(conn, count_sql.format(sql.SQL(t))) for t in tables}
        size_sql = "select pg_size_pretty(pg_total_relation_size(%s::regclass))"
        size = scalar(conn, size_sql, [case.table])
    print(
        f"seeded in {inserted - started:.1f} s (insert) + {done - inserted:.1f} s"
        f" (vacuum analyze) = {done - started:.1f} s"
    )
    print("rows: " + ", ".join(f"{t} {n:,}" for t, n in counts.items()))
    print(f"{case.table}: {size} with indexes")


# --- acting as a request ----------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    """The database role and request.jwt.claims PostgREST sets for a request."""

    role: str
    claims: str


SERVICE = Actor("service_role", SERVICE_CLAIMS)


def member_actor(user_id: uuid.UUID) -> Actor:
    return Actor("authenticated", json.dumps({"sub": str(user_id), "role": "authenticated"}))


@dataclass(frozen=True)
class Variant:
    name: str
    as_member: bool
    filtered: bool


VARIANTS = (
    Variant("service_role", as_member=False, filtered=True),
    Variant("rls+filter", as_member=True, filtered=True),
    Variant("rls-only", as_member=True, filtered=False),
)
BASELINE = VARIANTS[0]


@dataclass
class Sample:
    transaction_ns: int
    query_ns: int
    rows: list[tuple[Any, ...]]


def run_request(
    conn: psycopg.Connection,
    actor: Actor,
    query: Query,
    params: dict[str, Any],
) -> Sample:
    """One request as PostgREST runs it; times the transaction and the listing inside it."""
    started = time.perf_counter_ns()
    with conn.transaction():
        conn.execute(sql.SQL("set local role {}").format(sql.Identifier(actor.role)))
        conn.execute("select set_config('request.jwt.claims', %s, true)", [actor.claims])
        query_started = time.perf_counter_ns()
        rows = conn.execute(query, params).fetchall()
        query_ns = time.perf_counter_ns() - query_started
    return Sample(time.perf_counter_ns() - started, query_ns, rows)


@dataclass(frozen=True)
class Tenant:
    workspace_id: uuid.UUID
    member: Actor


def tenants_of(conn: psycopg.Connection, case: Case) -> list[Tenant]:
    rows = conn.execute(
        """
        select distinct on (m.workspace_id) m.workspace_id, m.user_id
        from public.workspace_members as m
        inner join public.workspaces as w on m.workspace_id = w.id
        where w.slug like 'bench-ws-%%' and m.role = %s
        order by m.workspace_id, m.user_id
        """,
        [case.member_role],
    ).fetchall()
    return [Tenant(workspace_id, member_actor(user_id)) for workspace_id, user_id in rows]


def query_of(case: Case, variant: Variant) -> str:
    return case.listing_sql if variant.filtered else case.unfiltered_sql


def check_samples(case: Case, tenant: Tenant, samples: dict[str, Sample]) -> None:
    """Every variant lists PAGE_SIZE rows; as the member of a single workspace, the same ones."""
    for name, sample in samples.items():
        check(
            len(sample.rows) == PAGE_SIZE,
            f"{case.name} {name}: {len(sample.rows)} rows, expected {PAGE_SIZE}",
        )
        check(
            sample.rows == samples[BASELINE.name].rows,
            f"{case.name}: {name} returned other rows than {BASELINE.name}"
            f" for workspace {tenant.workspace_id}",
        )


def check_rls_applies(conn: psycopg.Connection, case: Case, tenants: list[Tenant]) -> None:
    """Once, untimed: RLS really filters, so the rls-* variants measure something."""
    tenant, other = tenants[0], tenants[-1]
    count_sql = sql.SQL("select count(*), count(distinct {}) from {}").format(
        sql.Identifier(case.tenant_column), sql.SQL(case.table)
    )
    visible, workspaces = run_request(conn, tenant.member, count_sql, {}).rows[0]
    total = run_request(conn, SERVICE, count_sql, {}).rows[0][0]
    check(workspaces == 1, f"{case.name}: a member sees rows of {workspaces} workspaces")
    check(visible < total, f"{case.name}: RLS does not filter ({visible} of {total} rows)")
    params = {"workspace_id": other.workspace_id}
    foreign = run_request(conn, tenant.member, case.listing_sql, params)
    check(not foreign.rows, f"{case.name}: a member reads another workspace's rows")


# --- measuring --------------------------------------------------------------------------


@dataclass
class Stats:
    median_ms: float
    p95_ms: float

    @classmethod
    def of(cls, values_ns: Sequence[int]) -> Stats:
        ms = [v / 1e6 for v in values_ns]
        return cls(median(ms), p95(ms))


def measure(
    conn: psycopg.Connection, case: Case, iterations: int, warmup: int, seed: int
) -> dict[str, tuple[Stats, Stats]]:
    tenants = tenants_of(conn, case)
    check(bool(tenants), f"{case.name}: no workspace with a {case.member_role}")
    check_rls_applies(conn, case, tenants)
    rng = random.Random(seed)
    transaction_ns: dict[str, list[int]] = {v.name: [] for v in VARIANTS}
    query_ns: dict[str, list[int]] = {v.name: [] for v in VARIANTS}
    order = list(VARIANTS)
    gc.disable()
    try:
        for i in range(warmup + iterations):
            tenant = rng.choice(tenants)
            params = {"workspace_id": tenant.workspace_id}
            rng.shuffle(order)
            samples = {
                v.name: run_request(
                    conn,
                    tenant.member if v.as_member else SERVICE,
                    query_of(case, v),
                    params,
                )
                for v in order
            }
            check_samples(case, tenant, samples)
            if i >= warmup:
                for name, sample in samples.items():
                    transaction_ns[name].append(sample.transaction_ns)
                    query_ns[name].append(sample.query_ns)
    finally:
        gc.enable()
    return {name: (Stats.of(tx), Stats.of(query_ns[name])) for name, tx in transaction_ns.items()}


def explain(conn: psycopg.Connection, case: Case) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of each variant once, on the warm connection."""
    tenant = tenants_of(conn, case)[0]
    for variant in VARIANTS:
        actor = tenant.member if variant.as_member else SERVICE
        plan = run_request(
            conn,
            actor,
            "explain (analyze, buffers) " + query_of(case, variant),
            {"workspace_id": tenant.workspace_id},
        )
        print(f"\n-- {case.name} {variant.name}: {query_of(case, variant)}")
        print("\n".join(f"   {row[0]}" for row in plan.rows))


def report(case: Case, results: dict[str, tuple[Stats, Stats]], iterations: int) -> str:
    """Prints the table of figures; returns the summary line."""
    base_tx, base_q = results[BASELINE.name]
    print(
        f"\n{case.name}: {iterations} iterations; ms per request (tx: begin..commit, as timed for"
        " the ratio) and per listing query alone (q: execute + fetch)"
    )
    print(
        f"   {'variant':<14}{'tx median':>10}{'tx p95':>9}{'ratio':>8}"
        f"{'q median':>11}{'q p95':>9}{'ratio':>8}"
    )
    for variant in VARIANTS:
        tx, q = results[variant.name]
        print(
            f"   {variant.name:<14}{tx.median_ms:>10.3f}{tx.p95_ms:>9.3f}"
            f"{tx.median_ms / base_tx.median_ms:>7.2f}x"
            f"{q.median_ms:>11.3f}{q.p95_ms:>9.3f}{q.median_ms / base_q.median_ms:>7.2f}x"
        )
    # The target is for the listing the frontend makes (filtered by workspace);
    # rls-only is reported to show what an unfiltered listing costs.
    others = "  ".join(
        f"{v.name}/service = {results[v.name][0].median_ms / base_tx.median_ms:.2f}x"
        for v in VARIANTS[1:]
        if v.name != TARGETED_VARIANT
    )
    return (
        ratio_line(
            f"{case.name}: {TARGETED_VARIANT} tx median",
            results[TARGETED_VARIANT][0].median_ms,
            BASELINE.name,
            base_tx.median_ms,
            TARGET_RATIO,
            "ms",
            at_least=False,
            digits=3,
        )
        + f"; {others}"
    )


# --- main -------------------------------------------------------------------------------


def environment(admin_url: str) -> str:
    with psycopg.connect(with_database(admin_url, "template1")) as conn:
        settings = conn.execute(
            "select current_setting('server_version'), current_setting('shared_buffers'),"
            " current_setting('work_mem'), current_setting('jit')"
        ).fetchone()
    assert settings is not None
    version, shared_buffers, work_mem, jit = settings
    return (
        f"PostgreSQL {version} (shared_buffers {shared_buffers}, work_mem {work_mem}, jit {jit}),"
        f" client machine: {os.cpu_count()} CPUs"
    )


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="RLS overhead of listing a workspace's rows as a member vs service_role."
    )
    parser.add_argument(
        "admin_url",
        nargs="?",
        default=os.environ.get("TEST_DATABASE_URL"),
        help="superuser URL of the test cluster (default: $TEST_DATABASE_URL)",
    )
    parser.add_argument("--workspaces", type=int, default=100)
    parser.add_argument("--rows-per-workspace", type=int, default=10_000)
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1, help="random order and workspace picks")
    parser.add_argument("--case", choices=sorted(CASES), action="append", help="default: all")
    parser.add_argument("--keep", action="store_true", help=f"keep the {BENCH_DB} database")
    args = parser.parse_args(argv)
    if not args.admin_url:
        parser.error("give ADMIN_URL or set TEST_DATABASE_URL")
    if args.rows_per_workspace < PAGE_SIZE or args.workspaces < 2 or args.iterations < 2:
        parser.error(f"need >= 2 workspaces, >= {PAGE_SIZE} rows each and >= 2 iterations")
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    scale = Scale(args.workspaces, args.rows_per_workspace)
    summaries: list[str] = []
    print(environment(args.admin_url))
    try:
        for name in args.case or sorted(CASES):
            case = CASES[name]
            print(
                f"== {case.name}: {scale.workspaces} workspaces x {scale.rows_per_workspace:,}"
                f" rows in {case.table}, acting as {case.member_role}"
            )
            url = clone_template(args.admin_url, BENCH_DB)
            seed(url, case, scale)
            with psycopg.connect(url, autocommit=True) as conn:
                results = measure(conn, case, args.iterations, args.warmup, args.seed)
                summaries.append(report(case, results, args.iterations))
                explain(conn, case)
    except SanityError as exc:
        print(f"\nsanity check failed: {exc}", file=sys.stderr)
        return 1
    finally:
        if not args.keep:
            drop_database(args.admin_url, BENCH_DB)
    print()
    print("\n".join(summaries))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
