"""edge_api under load: GET /dashboard/stats vs an authenticated no-op request, same run.

    .venv/bin/python bench/api_load.py [ADMIN_URL] [--concurrency 4] [--seconds 8]
        [--rounds 4] [--warmup-seconds 2] [--db-calls 200] [--scale 1.0] [--plans] [--keep]

ADMIN_URL is a superuser URL of the test cluster (default: $TEST_DATABASE_URL); only its
host, port and credentials are used. The benchmark clones the migrated template
`careops_template` into its own database `careops_bench_api`, seeds 100 workspaces (an
owner, staff, invitations) and fills the measured one with issue #10's large workspace
(bench/dashboard_workspace.py: 100k bookings, 50k contacts, 500k messages, 20k form
submissions, 1k items; `--scale` shrinks it).

In the database alone (one warm connection as edge_api's role, kinds interleaved), it
compares the stats request as edge_api sends it with the same figures fetched as a
supabase-js dashboard would (one PostgREST transaction per figure: begin, the preamble, one
query under RLS, commit): server CPU per request, and wall time.

Then it starts edge_api with uvicorn (one worker, as one instance of N) on a free port, serving
bench/api_app.py: the real application plus GET /bench/noop, the comparator (same token
verification, pool, preamble and single round trip, one trivial query under RLS), and GET
/bench/stats-live, GET /dashboard/stats with its cache off (the dashboard computed on every
request). GET /dashboard/stats itself runs as deployed: a dashboard is computed at most once
per DASHBOARD_CACHE_SECONDS (`--dashboard-cache-seconds`, default 1, edge_api's default) and
the caller is checked on every request; stats-live shows in the same run what the cache saves.

An asyncio load generator drives them: `concurrency` keep-alive connections in a closed loop,
each sending its next request when the previous one answered (a minimal HTTP/1.1 client: the
generator shares the cores with what it measures, so it should cost as little as it can; it
prints its own and edge_api's CPU per request). Endpoints alternate in rounds (noop, stats,
stats-live, noop, ...) so drift hits them all; per endpoint it prints requests per second,
median and p95 latency, and the ratio of stats' rps to noop's. It exits 1 only when a sanity
check fails (a non-200 answer, or stats returning another workspace's numbers).

Issue #21's targets: stats DB cost <= 0.4x supabase-js's, stats rps >= 0.5x noop's, stats p95
<= 25 ms, at concurrency 4 (see docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as dt_time
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import jwt
import psycopg
from dashboard_workspace import Sizes, load_large_workspace, settle
from harness import (
    SanityError,
    backend_cpu_seconds,
    clone_template,
    drop_database,
    limit_line,
    median,
    p95,
    ratio_line,
)
from psycopg import sql

from edge_api.routers.dashboard import DASHBOARD_QUERY

ROOT = Path(__file__).resolve().parent.parent

BENCH_DB = "careops_bench_api"
LOCAL_JWT_SECRET = "super-secret-jwt-token-with-at-least-32-characters-long"  # noqa: S105 (public)
TARGET_RATIO = 0.5
TARGET_DB_RATIO = 0.4
# GET /bench/noop's query (bench/api_app.py), the workspace id as a literal.
NOOP_SQL = "select json_build_object('member', exists (select from public.workspaces as w where w.id = {}))"
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
        # The seeded tables too, until every page is all-visible (as autovacuum leaves them): the
        # vacuum right after seeding often marks none, and the invitations count (an index-only
        # scan) then visits a heap page per invitation.
        settle(conn, ("public.workspaces", "public.workspace_members", "public.invitations"))
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


def supabase_js_figures(seeded: Seeded, at: datetime) -> list[str]:
    """The dashboard's figures fetched as a supabase-js dashboard would: one PostgREST request
    (one transaction) per figure, each a filter on the workspace that RLS checks again. Counts
    are `select('*', {count: 'exact', head: true})` (PostgREST counts; written here as the plain
    count(*), which costs it less); what PostgREST cannot express (a column compared with
    another, a sum, a group) is fetched as rows and finished in the browser. The workspace's
    local days are computed client-side (as a date library would), and the last 30 days are
    counted row by row: a client cannot read the day rollups (private)."""
    zone = ZoneInfo("Pacific/Auckland")
    local = at.astimezone(zone)
    day_start = datetime.combine(local.date(), dt_time(), zone)
    day_end = datetime.combine(local.date() + timedelta(days=1), dt_time(), zone)
    week_end = datetime.combine(local.date() + timedelta(days=8), dt_time(), zone)
    week_ago, month_ago = at - timedelta(days=7), at - timedelta(days=30)
    ws = f"'{seeded.workspace_id}'"

    def instant(value: datetime) -> str:
        return f"'{value.isoformat()}'::timestamptz"

    bookings = f"select count(*) from public.bookings where workspace_id = {ws}"
    today = f"starts_at >= {instant(day_start)} and starts_at < {instant(day_end)}"
    last_30 = f"starts_at >= {instant(month_ago)} and starts_at < {instant(at)}"
    forms = f"select count(*) from public.form_submissions where workspace_id = {ws}"
    contacts = f"select count(*) from public.contacts where workspace_id = {ws}"
    return [
        f"select id, name, timezone, status from public.workspaces where id = {ws}",
        f"select count(*) from public.workspace_members where workspace_id = {ws} and role = 'owner'",
        f"select count(*) from public.workspace_members where workspace_id = {ws} and role = 'staff'",
        f"select count(*) from public.invitations where workspace_id = {ws} and accepted_at is null"
        f" and revoked_at is null and expires_at > {instant(at)}",
        f"{bookings} and {today} and status <> 'cancelled'",
        f"{bookings} and starts_at >= {instant(day_end)} and starts_at < {instant(week_end)}"
        " and status <> 'cancelled'",
        f"{bookings} and {last_30} and status = 'completed'",
        f"{bookings} and {last_30} and status = 'no_show'",
        f"{bookings} and {last_30} and status = 'cancelled'",
        # today per practitioner: the practitioners with their profiles (an embed), then today's
        # bookings' practitioner ids, counted in the browser
        "select p.id, p.active, pr.full_name from public.practitioners as p"
        f" left join public.profiles as pr on pr.id = p.user_id where p.workspace_id = {ws}",
        f"select practitioner_id from public.bookings where workspace_id = {ws} and {today}"
        " and status <> 'cancelled'",
        f"{contacts} and created_at >= {instant(week_ago)}",
        f"{contacts} and created_at >= {instant(month_ago)}",
        f"select count(*) from public.conversations where workspace_id = {ws}"
        f" and last_message_at >= {instant(month_ago)}",
        # unread conversations and the unread messages they hold (summed in the browser)
        f"select unread_count from public.conversations where workspace_id = {ws} and unread_count > 0",
        f"{forms} and status = 'pending'",
        f"{forms} and status = 'overdue'",
        f"{forms} and completed_at >= {instant(month_ago)} and completed_at <= {instant(at)}",
        # active items; the low ones (quantity <= threshold) are picked in the browser
        "select id, name, unit, quantity, low_stock_threshold from public.inventory_items"
        f" where workspace_id = {ws} and active",
        f"select kind from public.alerts where workspace_id = {ws} and resolved_at is null",
        "select id, kind, severity, text, subject_type, subject_id, created_at from public.alerts"
        f" where workspace_id = {ws} and resolved_at is null order by created_at desc, id limit 5",
    ]


def database_costs(url: str, seeded: Seeded, calls: int) -> str:
    """What one request of each kind costs the database, over one warm connection as edge_api's
    role, the kinds interleaved per iteration: the stats request as edge_api sends it (one
    message: begin, PostgREST's preamble, dashboard_stats, commit), the noop comparator's query
    the same way, and the same figures as a supabase-js dashboard fetches them (one PostgREST
    transaction per figure: begin, the preamble, the query, commit). Per kind: the server
    process's CPU per request (/proc, this machine) and the wall time per request (median, p95).
    Returns the verdict line (stats / supabase-js, server CPU)."""
    claims = json.dumps({"sub": str(seeded.owner_id), "role": "authenticated"})
    preamble = (
        "select set_config('role', 'authenticated', true), set_config('request.jwt.claims', '{}', true),"
        " set_config('statement_timeout', '8000ms', true)"
    ).format(claims.replace("'", "''"))
    one_round_trip = "begin; {}; {}; commit"
    noop = one_round_trip.format(
        preamble,
        NOOP_SQL.format(f"'{seeded.workspace_id}'"),
    )
    wall: dict[str, list[float]] = {"stats": [], "supabase-js": [], "noop": []}
    cpu = dict.fromkeys(wall, 0.0)
    with psycopg.connect(url, autocommit=True) as conn:
        # What edge_api sends when it holds no fresh copy of the dashboard.
        workspace = sql.Literal(seeded.workspace_id)
        computed = DASHBOARD_QUERY.format(workspace_id=workspace, fresh=sql.Literal([]))
        stats = one_round_trip.format(preamble, computed.as_string(conn))
        pid = conn.execute("select pg_backend_pid()").fetchone()[0]
        figures = supabase_js_figures(seeded, datetime.now(UTC))
        print(f"  supabase-js: {len(figures)} requests per dashboard")

        def per_figure() -> None:
            for query in figures:
                conn.execute("begin")
                conn.execute(preamble)
                conn.execute(query).fetchall()
                conn.execute("commit")

        requests = {
            "stats": lambda: conn.execute(stats),
            "supabase-js": per_figure,
            "noop": lambda: conn.execute(noop),
        }
        for n in range(calls + 20):
            for name, request in requests.items():
                before_cpu, started = backend_cpu_seconds(pid), time.perf_counter()
                request()
                elapsed, after_cpu = time.perf_counter() - started, backend_cpu_seconds(pid)
                if n >= 20:  # warm-up: plans cached, pages in shared buffers
                    wall[name].append(elapsed * 1000)
                    if before_cpu is not None and after_cpu is not None:
                        cpu[name] += (after_cpu - before_cpu) * 1000 / calls
    for name, values in wall.items():
        print(
            f"  {name:<12} server CPU {cpu[name]:.2f} ms per request;"
            f" wall median {median(values):.2f} ms, p95 {p95(values):.2f} ms"
        )
    if cpu["supabase-js"]:
        return ratio_line(
            "stats DB cost (server CPU)",
            cpu["stats"],
            "supabase-js per figure",
            cpu["supabase-js"],
            TARGET_DB_RATIO,
            "ms",
            at_least=False,
            digits=2,
        )
    return ratio_line(
        "stats DB cost (wall median)",
        median(wall["stats"]),
        "supabase-js per figure",
        median(wall["supabase-js"]),
        TARGET_DB_RATIO,
        "ms",
        at_least=False,
        digits=2,
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


def start_api(db_url: str, port: int, dashboard_cache_seconds: float) -> subprocess.Popen[bytes]:
    env = os.environ | {
        "DATABASE_URL": db_url,
        "SUPABASE_JWT_SECRET": LOCAL_JWT_SECRET,
        "SUPABASE_JWKS_URL": "",
        "DB_POOL_MIN_SIZE": "10",
        "DB_POOL_MAX_SIZE": "10",
        "DASHBOARD_CACHE_SECONDS": str(dashboard_cache_seconds),
    }
    process = subprocess.Popen(  # noqa: S603 (our own uvicorn, fixed arguments)
        [str(ROOT / ".venv/bin/uvicorn"), "bench.api_app:app", "--port", str(port), "--log-level", "warning"],
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
    api_cpu_seconds: float = 0.0
    generator_cpu_seconds: float = 0.0


class KeepAliveConnection:
    """One HTTP/1.1 keep-alive connection that sends a GET and reads its answer, nothing more.

    The load generator shares the machine's cores with edge_api and the database, so its own
    CPU per request is taken from what it measures: httpx spent ~1.5 ms per request (as much as
    edge_api itself), this ~0.1 ms.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> KeepAliveConnection:
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def get(self, request: bytes) -> tuple[int, bytes]:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        length = None
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if length is None:
            raise SanityError(f"an answer without Content-Length: {head[:200]!r}")
        return int(head[9:12]), await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


def get_request(path: str, port: int, token: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n\r\n".encode()


async def run_phase(
    connections: list[KeepAliveConnection], request: bytes, seconds: float, api_pid: int
) -> Phase:
    """`len(connections)` clients in a closed loop for `seconds`; edge_api's and this process's CPU."""
    latencies: list[float] = []
    stop_at = time.perf_counter() + seconds
    failures: list[str] = []

    async def client(connection: KeepAliveConnection) -> None:
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            status, body = await connection.get(request)
            latencies.append((time.perf_counter() - started) * 1000)
            if status != 200:
                failures.append(f"{request.split()[1].decode()}: {status} {body[:200]!r}")

    api_before, generator_before = backend_cpu_seconds(api_pid) or 0.0, time.process_time()
    started = time.perf_counter()
    await asyncio.gather(*(client(connection) for connection in connections))
    elapsed = time.perf_counter() - started
    api_cpu = (backend_cpu_seconds(api_pid) or 0.0) - api_before
    if failures:
        raise SanityError(failures[0])
    return Phase(len(latencies), elapsed, latencies, api_cpu, time.process_time() - generator_before)


async def load(
    port: int, api_pid: int, seeded: Seeded, args: argparse.Namespace, today: int
) -> dict[str, Phase]:
    token = owner_token(seeded.owner_id)
    paths = {
        "noop": f"/bench/noop?workspace_id={seeded.workspace_id}",
        "stats": f"/dashboard/stats?workspace_id={seeded.workspace_id}",
        "stats-live": f"/bench/stats-live?workspace_id={seeded.workspace_id}",
    }
    requests = {name: get_request(path, port, token) for name, path in paths.items()}
    connections = [await KeepAliveConnection.open(port) for _ in range(args.concurrency)]
    try:
        return await checked_load(connections, requests, api_pid, seeded, args, today)
    finally:
        for connection in connections:
            connection.close()


async def checked_load(
    connections: list[KeepAliveConnection],
    requests: dict[str, bytes],
    api_pid: int,
    seeded: Seeded,
    args: argparse.Namespace,
    today: int,
) -> dict[str, Phase]:
    """The stats checked once against the seed, then the warm-up and the alternating rounds."""
    status, answer = await connections[0].get(requests["stats"])
    if status != 200:
        raise SanityError(f"stats answered {status}: {answer[:200]!r}")
    body = json.loads(answer)
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
    for request in requests.values():
        await run_phase(connections, request, args.warmup_seconds, api_pid)
    totals = {name: Phase(0, 0.0, []) for name in requests}
    for _ in range(args.rounds):
        for name, request in requests.items():
            phase = await run_phase(connections, request, args.seconds / args.rounds, api_pid)
            total = totals[name]
            total.completed += phase.completed
            total.seconds += phase.seconds
            total.latencies_ms += phase.latencies_ms
            total.api_cpu_seconds += phase.api_cpu_seconds
            total.generator_cpu_seconds += phase.generator_cpu_seconds
    return totals


def report(results: dict[str, Phase], concurrency: int) -> str:
    print(
        f"\n{'endpoint':<10} {'requests':>9} {'rps':>8} {'median ms':>10} {'p95 ms':>8}"
        f" {'edge_api CPU ms/req':>20} {'generator CPU ms/req':>21}"
    )
    for name, phase in results.items():
        print(
            f"{name:<10} {phase.completed:>9} {phase.completed / phase.seconds:>8.0f}"
            f" {median(phase.latencies_ms):>10.2f} {p95(phase.latencies_ms):>8.2f}"
            f" {phase.api_cpu_seconds * 1000 / phase.completed:>20.2f}"
            f" {phase.generator_cpu_seconds * 1000 / phase.completed:>21.2f}"
        )
    rps = {name: phase.completed / phase.seconds for name, phase in results.items()}
    noop = "noop (one RLS query, same auth and round trip)"
    return "\n".join(
        [
            ratio_line(
                f"stats, concurrency {concurrency},", rps["stats"], noop, rps["noop"], TARGET_RATIO, "rps"
            ),
            limit_line(
                f"stats p95, concurrency {concurrency},",
                p95(results["stats"].latencies_ms),
                TARGET_STATS_P95_MS,
            ),
            # The same request computing the dashboard every time: what the cache saves, and the
            # latency of a request that finds no fresh copy.
            f"stats computed on every request (no cache): {rps['stats-live']:.1f} rps"
            f" = {rps['stats-live'] / rps['noop']:.2f}x noop",
            limit_line(
                f"stats computed on every request, p95, concurrency {concurrency},",
                p95(results["stats-live"].latencies_ms),
                TARGET_STATS_P95_MS,
            ),
        ]
    )


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="GET /dashboard/stats vs an authenticated no-op request.")
    parser.add_argument("admin_url", nargs="?", default=os.environ.get("TEST_DATABASE_URL"))
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=8.0, help="measured seconds per endpoint")
    parser.add_argument("--rounds", type=int, default=4, help="alternations of the endpoints")
    parser.add_argument("--warmup-seconds", type=float, default=2.0)
    parser.add_argument("--db-calls", type=int, default=200, help="requests of each kind, database alone")
    parser.add_argument("--plans", action="store_true", help="print the whole plans of dashboard_stats")
    parser.add_argument(
        "--scale", type=float, default=1.0, help="size of the large workspace (1.0: the issue's)"
    )
    parser.add_argument(
        "--dashboard-cache-seconds",
        type=float,
        default=1.0,
        help="edge_api's DASHBOARD_CACHE_SECONDS (1: its default)",
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
        db_line = database_costs(api_database_url(args.admin_url), seeded, args.db_calls)
        port = free_port()
        api = start_api(api_database_url(args.admin_url), port, args.dashboard_cache_seconds)
        results = asyncio.run(load(port, api.pid, seeded, args, expected_bookings_today(url, seeded)))
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
    print(db_line)
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
