"""edge_api under load: GET /dashboard/stats vs GET /health, same concurrency, same run.

    .venv/bin/python bench/api_load.py [ADMIN_URL] [--concurrency 16] [--seconds 8]
        [--rounds 4] [--warmup-seconds 2] [--plans] [--keep]

ADMIN_URL is a superuser URL of the test cluster (default: $TEST_DATABASE_URL); only its
host, port and credentials are used. The benchmark clones the migrated template
`careops_template` into its own database `careops_bench_api`, seeds 100 workspaces (an
owner, staff, invitations) and fills the measured one with issue #10's large workspace
(bench/dashboard_workspace.py: 100k bookings, 50k contacts, 500k messages, 20k form
submissions, 1k items; `--scale` shrinks it), starts edge_api with uvicorn (one worker, as
one instance of N) on a free port, and drives it with an async httpx load generator:
`concurrency` clients in a closed loop, each sending its next request when the previous
one answered.

Endpoints alternate in rounds (health, stats, health, stats, ...) so drift hits both;
per endpoint it prints requests per second, median and p95 latency, and the ratio of
stats' rps to health's. It exits 1 only when a sanity check fails (a non-200 answer,
or stats returning another workspace's numbers).

Issue #10's targets: ratio >= 0.5, stats p95 <= 25 ms (see docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import jwt
import psycopg
from dashboard_workspace import Sizes, load_large_workspace
from harness import SanityError, clone_template, drop_database, limit_line, median, p95, ratio_line

ROOT = Path(__file__).resolve().parent.parent

BENCH_DB = "careops_bench_api"
LOCAL_JWT_SECRET = "super-secret-jwt-token-with-at-least-32-characters-long"  # noqa: S105 (public)
TARGET_RATIO = 0.5
TARGET_STATS_P95_MS = 25.0


@dataclass(frozen=True)
class Seeded:
    workspace_id: uuid.UUID
    owner_id: uuid.UUID
    staff: int
    pending_invitations: int


def seed(url: str, staff: int = 20, invitations: int = 200) -> Seeded:
    """One workspace with an owner, `staff` staff and `invitations` pending invitations, plus
    99 other workspaces of the same shape (so RLS has others to filter out)."""
    with psycopg.connect(url) as conn:
        conn.execute(
            """
            insert into auth.users (instance_id, id, aud, role, email, encrypted_password,
                email_confirmed_at, raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
            select '00000000-0000-0000-0000-000000000000', gen_random_uuid(), 'authenticated',
                'authenticated', 'bench-' || w || '-' || n || '@example.test', '', now(),
                '{"provider": "email", "providers": ["email"]}', '{}', now(), now()
            from generate_series(1, 100) as w, generate_series(0, %(staff)s) as n
            """,
            {"staff": staff},
        )
        conn.execute(
            """
            insert into public.workspaces (name, slug, timezone, status, created_by)
            select 'Bench ' || w, 'bench-' || w, 'Pacific/Auckland', 'active', u.id
            from generate_series(1, 100) as w
            inner join auth.users as u on u.email = 'bench-' || w || '-0@example.test'
            """
        )
        conn.execute(
            """
            insert into public.workspace_members (workspace_id, user_id, role)
            select w.id, u.id, case when u.email like '%%-0@example.test' then 'owner' else 'staff' end
            from public.workspaces as w
            inner join auth.users as u on u.email like w.slug || '-%%'
            """
        )
        conn.execute(
            """
            insert into public.invitations (workspace_id, email, role, token_hash, expires_at)
            select w.id, 'guest-' || n || '@example.test', 'staff',
                sha256(convert_to(w.slug || '/' || n, 'UTF8')), now() + interval '7 days'
            from public.workspaces as w, generate_series(1, %(invitations)s) as n
            """,
            {"invitations": invitations},
        )
        row = conn.execute(
            "select w.id, w.created_by from public.workspaces as w where w.slug = 'bench-1'"
        ).fetchone()
        assert row is not None
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "vacuum (analyze) auth.users, public.workspaces, public.workspace_members, public.invitations"
        )
    return Seeded(row[0], row[1], staff, invitations)


def load_large(url: str, seeded: Seeded, scale: float) -> None:
    sizes = Sizes(*(max(1, round(value * scale)) for value in vars(Sizes()).values()))
    with psycopg.connect(url) as conn:
        seconds = load_large_workspace(conn, seeded.workspace_id, sizes)
    print(
        f"large workspace loaded in {seconds:.1f} s: {sizes.bookings} bookings, {sizes.contacts} contacts"
        f" (and conversations), {sizes.messages} messages, {sizes.form_submissions} form submissions,"
        f" {sizes.inventory_items} items, {sizes.alerts} alerts"
    )


def expected_bookings_today(url: str, seeded: Seeded) -> int:
    """Today's bookings of the measured workspace, counted directly (the stats must agree)."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "select count(*) from public.bookings as b, public.workspaces as w,"
            " private.local_day(w.timezone, now()) as d"
            " where w.id = %s and b.workspace_id = w.id and b.status <> 'cancelled'"
            " and b.starts_at >= d.starts_at and b.starts_at < d.ends_at",
            [seeded.workspace_id],
        ).fetchone()
    assert row is not None
    return row[0]


# Tables whose sequential scan in dashboard_stats would be a finding (issue #10).
NO_SEQ_SCAN_OF = ("bookings", "messages", "contacts", "conversations", "form_submissions")


def explain_dashboard_stats(url: str, seeded: Seeded, full: bool, check_scans: bool = True) -> None:
    """The plans of the statements inside dashboard_stats, as the owner, through auto_explain
    (nested statements, reported to this client as NOTICEs). Needs a superuser to LOAD it."""
    notices: list[str] = []
    with psycopg.connect(url) as conn:
        conn.add_notice_handler(lambda diag: notices.append(diag.message_primary or ""))
        conn.execute("load 'auto_explain'")
        for setting, value in {
            "auto_explain.log_min_duration": "0",
            "auto_explain.log_nested_statements": "on",
            "auto_explain.log_analyze": "on",
            "auto_explain.log_buffers": "on",
            "auto_explain.log_level": "notice",
        }.items():
            conn.execute("select set_config(%s, %s, true)", [setting, value])
        conn.execute(
            "select set_config('role', 'authenticated', true), set_config('request.jwt.claims', %s, true)",
            [f'{{"sub": "{seeded.owner_id}", "role": "authenticated"}}'],
        )
        conn.execute("select public.dashboard_stats(%s)", [seeded.workspace_id])
        conn.rollback()
    plans = [notice for notice in notices if "Query Text" in notice]
    print(f"\nplans inside dashboard_stats ({len(plans)} statements, auto_explain; --plans for all of it):")
    for plan in plans:
        lines = plan.splitlines()
        if full:
            print("  " + "\n  ".join(lines))
            continue
        scans = [line.strip() for line in lines if "Scan" in line]
        if scans:
            text = plan.split("Query Text:", 1)[1].splitlines()
            query = " ".join(
                " ".join(text[: next(i for i, line in enumerate(text) if "(cost=" in line)]).split()
            )
            print(f"  {query[:100]}")
            for scan in scans:
                print(f"      {scan}")
    if not check_scans:
        print("  (sequential scans not checked below the issue's size: small tables are rightly scanned)")
        return
    for table in NO_SEQ_SCAN_OF:
        if any(f"Seq Scan on {table}" in plan for plan in plans):
            raise SanityError(f"dashboard_stats scans {table} sequentially")


def database_costs(url: str, seeded: Seeded, calls: int = 200) -> str:
    """What each endpoint costs the database alone, over one warm connection as edge_api's role
    (no HTTP, no Python in between): health's query, and the stats transaction (begin, the
    PostgREST preamble, dashboard_stats, commit), interleaved; median and p95 in ms."""
    claims = f'{{"sub": "{seeded.owner_id}", "role": "authenticated"}}'
    timings: dict[str, list[float]] = {"health query": [], "stats transaction": []}
    with psycopg.connect(url, autocommit=True) as conn:
        for n in range(calls + 20):
            started = time.perf_counter()
            conn.execute("select exists (select 1 from pgmq.meta where queue_name = 'jobs')").fetchone()
            health = (time.perf_counter() - started) * 1000
            started = time.perf_counter()
            with conn.transaction():
                conn.execute(
                    "select set_config('role', 'authenticated', true),"
                    " set_config('request.jwt.claims', %s, true),"
                    " set_config('statement_timeout', '8000', true)",
                    [claims],
                )
                conn.execute(
                    "select public.dashboard_stats(p_workspace_id => %s)", [seeded.workspace_id]
                ).fetchone()
            stats = (time.perf_counter() - started) * 1000
            if n >= 20:  # warm-up: plans cached, pages in shared buffers
                timings["health query"].append(health)
                timings["stats transaction"].append(stats)
    return "; ".join(
        f"{name} median {median(values):.2f} ms, p95 {p95(values):.2f} ms" for name, values in timings.items()
    )


def owner_token(owner_id: uuid.UUID) -> str:
    now = int(time.time())
    claims = {
        "sub": str(owner_id),
        "aud": "authenticated",
        "role": "authenticated",
        "iat": now,
        "exp": now + 3600,
    }
    return jwt.encode(claims, LOCAL_JWT_SECRET, algorithm="HS256")


def api_database_url(admin_url: str) -> str:
    """edge_api connects as `postgres` over TCP, as it does in production (never as the superuser)."""
    port = psycopg.conninfo.conninfo_to_dict(admin_url).get("port") or "5432"
    return f"postgresql://postgres:postgres@127.0.0.1:{port}/{BENCH_DB}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_api(db_url: str, port: int) -> subprocess.Popen[bytes]:
    env = os.environ | {
        "DATABASE_URL": db_url,
        "SUPABASE_JWT_SECRET": LOCAL_JWT_SECRET,
        "SUPABASE_JWKS_URL": "",
        "DB_POOL_MIN_SIZE": "10",
        "DB_POOL_MAX_SIZE": "10",
    }
    process = subprocess.Popen(  # noqa: S603 (our own uvicorn, fixed arguments)
        [str(ROOT / ".venv/bin/uvicorn"), "edge_api.main:app", "--port", str(port), "--log-level", "warning"],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.terminate()
    raise SanityError("edge_api did not become healthy within 30 s")


@dataclass
class Phase:
    completed: int
    seconds: float
    latencies_ms: list[float]


async def run_phase(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], concurrency: int, seconds: float
) -> Phase:
    latencies: list[float] = []
    stop_at = time.perf_counter() + seconds
    failures: list[str] = []

    async def worker() -> None:
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            response = await client.get(path, headers=headers)
            latencies.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                failures.append(f"{path}: {response.status_code} {response.text[:200]}")

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    if failures:
        raise SanityError(failures[0])
    return Phase(len(latencies), elapsed, latencies)


async def load(base_url: str, seeded: Seeded, args: argparse.Namespace, today: int) -> dict[str, Phase]:
    token = {"Authorization": f"Bearer {owner_token(seeded.owner_id)}"}
    endpoints = {
        "health": ("/health", {}),
        "stats": (f"/dashboard/stats?workspace_id={seeded.workspace_id}", token),
    }
    limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=10) as client:
        body = (await client.get(endpoints["stats"][0], headers=token)).json()
        if body["members"] != {"owners": 1, "staff": seeded.staff} or body["invitations"] != {
            "pending": seeded.pending_invitations
        }:
            raise SanityError(f"unexpected stats: {body}")
        if body["bookings"]["today"] != today:
            raise SanityError(f"stats count {body['bookings']['today']} bookings today, the table {today}")
        print(
            "stats of the large workspace:"
            f" bookings {body['bookings']['today']} today, {body['bookings']['next_7_days']} next 7 days,"
            f" {body['bookings']['last_30_days']} last 30 days; leads {body['leads']}; forms {body['forms']};"
            f" inventory {body['inventory']['items']} items, {body['inventory']['low_stock_count']} low;"
            f" alerts {body['alerts']['open_by_kind']}"
        )
        for path, headers in endpoints.values():
            await run_phase(client, path, headers, args.concurrency, args.warmup_seconds)
        totals = {name: Phase(0, 0.0, []) for name in endpoints}
        for _ in range(args.rounds):
            for name, (path, headers) in endpoints.items():
                phase = await run_phase(client, path, headers, args.concurrency, args.seconds / args.rounds)
                totals[name].completed += phase.completed
                totals[name].seconds += phase.seconds
                totals[name].latencies_ms += phase.latencies_ms
    return totals


def report(results: dict[str, Phase], concurrency: int) -> str:
    print(f"\n{'endpoint':<10} {'requests':>9} {'rps':>8} {'median ms':>10} {'p95 ms':>8}")
    for name, phase in results.items():
        print(
            f"{name:<10} {phase.completed:>9} {phase.completed / phase.seconds:>8.0f}"
            f" {median(phase.latencies_ms):>10.2f} {p95(phase.latencies_ms):>8.2f}"
        )
    stats = results["stats"]
    rps = {name: phase.completed / phase.seconds for name, phase in results.items()}
    return "\n".join(
        [
            ratio_line(
                f"stats, concurrency {concurrency},",
                rps["stats"],
                "health",
                rps["health"],
                TARGET_RATIO,
                "rps",
            ),
            limit_line(
                f"stats p95, concurrency {concurrency},", p95(stats.latencies_ms), TARGET_STATS_P95_MS
            ),
        ]
    )


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="GET /dashboard/stats vs GET /health under the same load.")
    parser.add_argument("admin_url", nargs="?", default=os.environ.get("TEST_DATABASE_URL"))
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=8.0, help="measured seconds per endpoint")
    parser.add_argument("--rounds", type=int, default=4, help="alternations of the endpoints")
    parser.add_argument("--warmup-seconds", type=float, default=2.0)
    parser.add_argument("--plans", action="store_true", help="print the whole plans of dashboard_stats")
    parser.add_argument(
        "--scale", type=float, default=1.0, help="size of the large workspace (1.0: the issue's)"
    )
    parser.add_argument("--keep", action="store_true", help=f"keep the {BENCH_DB} database")
    args = parser.parse_args(argv)
    if not args.admin_url:
        parser.error("give ADMIN_URL or set TEST_DATABASE_URL")
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    url = clone_template(args.admin_url, BENCH_DB)
    api: subprocess.Popen[bytes] | None = None
    try:
        started = time.perf_counter()
        seeded = seed(url)
        print(
            f"seeded in {time.perf_counter() - started:.1f} s: 100 workspaces, 1 owner + 20 staff"
            " + 200 pending invitations each"
        )
        load_large(url, seeded, args.scale)
        explain_dashboard_stats(url, seeded, args.plans, check_scans=args.scale >= 1.0)
        print(f"\nin the database alone ({api_database_url(args.admin_url)}):")
        print("  " + database_costs(api_database_url(args.admin_url), seeded))
        port = free_port()
        api = start_api(api_database_url(args.admin_url), port)
        results = asyncio.run(
            load(f"http://127.0.0.1:{port}", seeded, args, expected_bookings_today(url, seeded))
        )
        summary = report(results, args.concurrency)
    except SanityError as exc:
        print(f"\nsanity check failed: {exc}", file=sys.stderr)
        return 1
    finally:
        if api is not None:
            api.terminate()
            api.wait(timeout=10)
        if not args.keep:
            drop_database(args.admin_url, BENCH_DB)
    print()
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
