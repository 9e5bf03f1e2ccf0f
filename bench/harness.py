"""The one benchmark harness every script in bench/ uses: percentiles, pgbench, databases, verdicts.

- Percentiles: `percentile`, `p95` and `median` (one definition, see `percentile`).
- pgbench: `pgbench_init` and `pgbench_run` (binary lookup, connection from a URL, tps
  parsed, a failed or aborted transaction is a `SanityError`).
- Databases: `clone_template` / `create_empty` / `drop_database` and the `bench_database`
  context manager (a clone of the migrated `careops_template` that `make test-db` builds,
  dropped afterwards unless kept); `seed_history` for a workspace in use.
- Server CPU per transaction on one connection: `cpu_per_transaction`, `tpcb_like`.
- Verdict lines: `ratio_line` ("X / Y = r (target >= t) PASS") and `limit_line`.
- Noisy machines: `load_average` (printed with every run), `alternating` (variants in
  rounds, the order flipped every other round), `spread` ("median (min-max, n runs)").
- The worker: `worker_process` (`python -m worker` against a database, console delivery).

A benchmark reports: it exits 0 whatever the figures, 1 only when a sanity check fails
(`SanityError`: the figures would mean nothing).
"""

from __future__ import annotations

import glob
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

T = TypeVar("T")

ROOT = Path(__file__).resolve().parent.parent
# The repository's packages (edge_api, worker, tests) and scripts/ for every bench script,
# which runs as `python bench/<name>.py` and imports this module first.
for path in (ROOT, ROOT / "scripts"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from dbctl import TEMPLATE_DB, kick_and, with_database  # noqa: E402

__all__ = ["TEMPLATE_DB", "with_database"]


class SanityError(Exception):
    """A check of what a benchmark did failed: its figures would mean nothing."""


def check(condition: bool, message: str) -> None:
    if not condition:
        raise SanityError(message)


# --- percentiles ------------------------------------------------------------------------


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile, the only definition the benchmarks use: sort the n
    values and take the one at index round(fraction * (n - 1)) (Python's round, halves to
    even). Always one of the measured values, never an interpolation: p95 of 200 samples
    is the 190th smallest (index 189), the median of an even count is one of the two
    middle values (not their mean)."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def p95(values: Sequence[float]) -> float:
    return percentile(values, 0.95)


def median(values: Sequence[float]) -> float:
    return percentile(values, 0.5)


def spread(values: Sequence[float], digits: int = 1) -> str:
    """'median (min-max, n runs)' of one figure over several runs."""
    return (
        f"{median(values):.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f}, {len(values)} runs)"
    )


# --- a shared, noisy machine --------------------------------------------------------------


def load_average() -> str:
    """The 1/5/15-minute load averages, as `uptime` prints them: shown with every run."""
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f}"


def alternating(variants: Sequence[T], rounds: int) -> Iterator[tuple[int, T]]:
    """(round, variant) for `rounds` rounds of every variant, the order reversed every other
    round (A B, B A, A B ...): drift and neighbours' load fall on both sides alike."""
    for number in range(rounds):
        for variant in variants if number % 2 == 0 else list(reversed(variants)):
            yield number, variant


# --- verdict lines ----------------------------------------------------------------------


def ratio_line(
    name: str,
    value: float,
    base_name: str,
    base: float,
    target: float,
    unit: str = "",
    at_least: bool = True,
    digits: int = 1,
) -> str:
    """'name value unit / base_name base unit = r.rrx (target >= t x) PASS' (or <=, MISS):
    a figure against another measured in the same run (values with `digits` decimals)."""
    ratio = value / base if base else float("inf")
    met = ratio >= target if at_least else ratio <= target
    unit = f" {unit}" if unit else ""
    return (
        f"{name} {value:.{digits}f}{unit} / {base_name} {base:.{digits}f}{unit} = {ratio:.2f}x"
        f" (target {'>=' if at_least else '<='} {target}x) {'PASS' if met else 'MISS'}"
    )


def limit_line(
    name: str,
    value: float,
    target: float,
    unit: str = "ms",
    at_most: bool = True,
    detail: str = "",
    digits: int = 2,
) -> str:
    """'name value unit, detail (target <= t unit) PASS': a figure against a fixed limit."""
    met = value <= target if at_most else value >= target
    detail = f", {detail}" if detail else ""
    return (
        f"{name} {value:.{digits}f} {unit}{detail} (target {'<=' if at_most else '>='} {target:g} {unit})"
        f" {'PASS' if met else 'MISS'}"
    )


# --- databases --------------------------------------------------------------------------


def _admin(admin_url: str) -> psycopg.Connection:
    return psycopg.connect(with_database(admin_url, "template1"), autocommit=True)


def _drop(admin: psycopg.Connection, name: str) -> None:
    admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


def clone_template(admin_url: str, name: str) -> str:
    """(Re)create database `name` as a clone of `careops_template` (sessions holding the
    template are ended first, as dbctl does); returns its URL. Needs `make test-db`."""
    with _admin(admin_url) as admin:
        exists = admin.execute(
            "select count(*) from pg_database where datname = %s", [TEMPLATE_DB]
        ).fetchone()
        if not exists or not exists[0]:
            sys.exit(f"no {TEMPLATE_DB} database on this cluster: run `make test-db` first")
        _drop(admin, name)
        kick_and(
            admin,
            TEMPLATE_DB,
            sql.SQL("create database {} template {}").format(
                sql.Identifier(name), sql.Identifier(TEMPLATE_DB)
            ),
        )
    return with_database(admin_url, name)


def create_empty(admin_url: str, name: str) -> str:
    """(Re)create an empty database `name` (pgbench's own tables); returns its URL."""
    with _admin(admin_url) as admin:
        _drop(admin, name)
        admin.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    return with_database(admin_url, name)


def drop_database(admin_url: str, name: str) -> None:
    with _admin(admin_url) as admin:
        _drop(admin, name)


@contextmanager
def bench_database(admin_url: str, name: str, keep: bool = False, empty: bool = False) -> Iterator[str]:
    """A clone of the template (or, `empty`, a new empty database) for the block's length;
    yields its URL and drops it afterwards unless `keep`."""
    url = create_empty(admin_url, name) if empty else clone_template(admin_url, name)
    try:
        yield url
    finally:
        if not keep:
            drop_database(admin_url, name)


def seed_history(
    conn: psycopg.Connection, workspace_id: object, booking_type_id: object, per_practitioner: int
) -> int:
    """Past, completed bookings for every practitioner of the workspace, ending two days ago, each
    with a customer of its own created before it: a workspace in use rather than empty tables.
    Plans are made from the statistics a `vacuum (analyze)` then takes (plpgsql keeps generic
    plans for a session), so the history must look like one: with one contact holding every past
    booking, all created in one instant, the generic plan of "this contact's booking created
    now" (private.publish_contact_event) was a sequential scan of bookings, where a real table's
    statistics give an index probe. Written with triggers off (`session_replication_role =
    replica`: history sets nothing off, no welcome is queued); returns the count."""
    conn.execute("set session_replication_role = replica")
    try:
        row = conn.execute(
            """
            with past as materialized (
                select p.workspace_id, p.id as practitioner_id, s.at, gen_random_uuid() as contact_id
                from public.practitioners as p
                cross join lateral generate_series(
                    date_trunc('hour', now()) - interval '2 days' - (%(n)s - 1) * interval '30 minutes',
                    date_trunc('hour', now()) - interval '2 days',
                    interval '30 minutes'
                ) as s (at)
                where p.workspace_id = %(ws)s
            ),
            customers as (
                insert into public.contacts (id, workspace_id, name, email, created_at)
                select
                    x.contact_id, x.workspace_id, 'Past customer', 'past-' || x.contact_id || '@bench.test',
                    x.at - interval '7 days'
                from past as x
            ),
            written as (
                insert into public.bookings (
                    workspace_id, booking_type_id, practitioner_id, contact_id, starts_at, ends_at, status,
                    created_at
                )
                select
                    x.workspace_id, %(bt)s, x.practitioner_id, x.contact_id, x.at,
                    x.at + interval '30 minutes', 'completed', x.at - interval '3 days'
                from past as x
                returning 1
            )
            select count(*) from written
            """,
            {"ws": workspace_id, "bt": booking_type_id, "n": per_practitioner},
        ).fetchone()
    finally:
        conn.execute("set session_replication_role = origin")
    return row[0] if row else 0


# --- pgbench ----------------------------------------------------------------------------


def pgbench_binary() -> str:
    """pgbench on PATH, else the newest one of the PostgreSQL packages."""
    found = shutil.which("pgbench") or next(
        iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/pgbench"), reverse=True)), None
    )
    if not found:
        sys.exit("pgbench not found (postgresql-client / postgresql-15)")
    return found


def pgbench_env(url: str) -> dict[str, str]:
    """libpq's PG* variables for the URL's host (a TCP host or a socket directory), port,
    user and password: pgbench then takes only the database name."""
    params = conninfo_to_dict(url)
    env = dict(os.environ)
    for key, variable in (
        ("host", "PGHOST"),
        ("port", "PGPORT"),
        ("user", "PGUSER"),
        ("password", "PGPASSWORD"),
    ):
        value = params.get(key)
        if value:
            env[variable] = str(value)
    return env


def _pgbench(url: str, args: list[str]) -> subprocess.CompletedProcess[str]:
    database = conninfo_to_dict(url).get("dbname") or "postgres"
    return subprocess.run(  # noqa: S603 (pgbench, arguments built here)
        [pgbench_binary(), *args, str(database)],
        env=pgbench_env(url),
        capture_output=True,
        text=True,
        check=False,
    )


def pgbench_init(url: str, scale: int) -> None:
    """`pgbench -i -q -s scale` into the URL's database."""
    done = _pgbench(url, ["-i", "-q", "-s", str(scale)])
    check(done.returncode == 0, f"pgbench -i failed: {done.stderr.strip()[-800:]}")


@dataclass(frozen=True)
class PgbenchResult:
    tps: float  # without initial connection time
    transactions: int
    latencies_ms: list[float]  # per transaction (only with `log=True`)


def pgbench_run(
    url: str,
    clients: int,
    seconds: int,
    threads: int,
    script: str | None = None,
    prepared: bool = False,
    defines: dict[str, object] | None = None,
    vacuum: bool = False,
) -> float:
    """One pgbench run against the URL's database: the built-in tpcb-like, or `script`
    (the text of a custom script); -n (no vacuum of pgbench's tables first) unless `vacuum`.
    Returns tps (without initial connection time); a non-zero exit (a client aborted), a
    failed transaction or a missing tps is a SanityError."""
    return pgbench(url, clients, seconds, threads, script, prepared, defines, vacuum).tps


def pgbench(
    url: str,
    clients: int,
    seconds: int,
    threads: int,
    script: str | None = None,
    prepared: bool = False,
    defines: dict[str, object] | None = None,
    vacuum: bool = False,
    log: bool = False,
    rate: float | None = None,
) -> PgbenchResult:
    """`pgbench_run` with the whole result; `log`: every transaction's latency too (pgbench
    --log: the time from the script's first statement sent to its last answer, in the client);
    `rate`: transactions per second in all (pgbench -R: a latency then counts from the
    transaction's scheduled start, so a client falling behind shows)."""
    args = ["-c", str(clients), "-j", str(threads), "-T", str(seconds)]
    if rate:
        args += ["-R", f"{rate:.1f}"]
    if not vacuum:
        args.append("-n")
    if prepared:
        args += ["-M", "prepared"]
    for name, value in (defines or {}).items():
        args += ["-D", f"{name}={value}"]
    path = None
    log_dir = Path(tempfile.mkdtemp(prefix="bench-pgbench-")) if log else None
    if log_dir is not None:
        args += ["--log", f"--log-prefix={log_dir / 'tx'}"]
    if script is not None:
        with tempfile.NamedTemporaryFile("w", suffix=".sql", prefix="bench-", delete=False) as handle:
            handle.write(script)
            path = handle.name
        args += ["-f", path]
    latencies: list[float] = []
    try:
        done = _pgbench(url, args)
        if log_dir is not None:
            # client_id transaction_no time(us) script_no epoch us [lag]
            for file in sorted(log_dir.iterdir()):
                latencies += [int(line.split()[2]) / 1e3 for line in file.read_text().splitlines() if line]
    finally:
        if path is not None:
            Path(path).unlink()
        if log_dir is not None:
            shutil.rmtree(log_dir, ignore_errors=True)
    output = done.stdout + done.stderr
    check(done.returncode == 0, f"pgbench failed (exit {done.returncode}): {output.strip()[-800:]}")
    failed = re.search(r"number of failed transactions: (\d+)", output)
    check(failed is None or failed.group(1) == "0", f"pgbench transactions failed: {output[-400:]}")
    match = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", output)
    check(match is not None, f"no tps in pgbench output: {output[-400:]}")
    assert match is not None
    processed = re.search(r"number of transactions actually processed: (\d+)", output)
    return PgbenchResult(float(match.group(1)), int(processed.group(1)) if processed else 0, latencies)


# --- server CPU per transaction -----------------------------------------------------------

Transaction = Callable[[int], list[str]]


def backend_cpu_seconds(pid: int) -> float | None:
    """CPU time of a server process, when the server runs on this machine: the scheduler's
    nanosecond count (/proc/<pid>/schedstat), else utime + stime in clock ticks (10 ms: too
    coarse for one sample of a tenth of a second)."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        pass
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_per_transaction(url: str, transaction: Transaction, count: int) -> float | None:
    """Server CPU milliseconds per transaction over `count` transactions on one connection
    (after 50 unmeasured ones): a figure that other load on the machine does not move much.
    `transaction(i)` gives the statements of the i-th. None when the server is elsewhere."""
    with psycopg.connect(url, autocommit=True) as conn:
        pid = conn.execute("select pg_backend_pid()").fetchone()[0]
        for i in range(50):
            for statement in transaction(i):
                conn.execute(statement)
        before = backend_cpu_seconds(pid)
        for i in range(50, 50 + count):
            for statement in transaction(i):
                conn.execute(statement)
        after = backend_cpu_seconds(pid)
    if before is None or after is None:
        return None
    return (after - before) / count * 1e3


def tpcb_like(seed: int = 7) -> Transaction:
    """pgbench's tpcb-like transaction as statements (a database `pgbench_init` filled, scale >= 1)."""
    rng = random.Random(seed)

    def transaction(_: int) -> list[str]:
        aid, tid, delta = rng.randint(1, 100_000), rng.randint(1, 10), rng.randint(-5000, 5000)
        return [
            "begin",
            f"update pgbench_accounts set abalance = abalance + {delta} where aid = {aid}",
            f"select abalance from pgbench_accounts where aid = {aid}",
            f"update pgbench_tellers set tbalance = tbalance + {delta} where tid = {tid}",
            f"update pgbench_branches set bbalance = bbalance + {delta} where bid = 1",
            "insert into pgbench_history (tid, bid, aid, delta, mtime)"
            f" values ({tid}, 1, {aid}, {delta}, current_timestamp)",
            "end",
        ]

    return transaction


# --- the worker ---------------------------------------------------------------------------


@contextmanager
def worker_process(url: str, log_path: Path, nice: int = 0, **env: str) -> Iterator[subprocess.Popen[bytes]]:
    """`python -m worker` against the URL's database for the block's length, its output in
    `log_path`; deliveries go to the console provider unless `env` says otherwise (WORKER_*
    settings, worker/settings.py). Waits until it reads the queue; SIGTERM afterwards. `nice`:
    the process's CPU priority (its own Python CPU only: its SQL runs in the server's backends)."""
    environment = {
        **os.environ,
        "DATABASE_URL": url,
        "EMAIL_PROVIDERS": "console",
        "SMS_PROVIDERS": "console",
        "LOG_LEVEL": "WARNING",
        "WORKER_POLL_SECONDS": "1",
        **env,
    }
    with log_path.open("w") as out:
        # nice(1) before exec: every thread of the worker inherits the priority.
        command = [shutil.which("nice") or "/usr/bin/nice", "-n", str(nice), sys.executable, "-m", "worker"]
        process = subprocess.Popen(  # noqa: S603 (the worker, arguments built here)
            command, cwd=ROOT, env=environment, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 30
        with psycopg.connect(url, autocommit=True) as conn:
            # Ready: its pool's connection is open (it reads as soon as it has one).
            while not conn.execute(
                "select count(*) from pg_stat_activity where datname = current_database()"
                " and application_name = 'careops-worker'"
            ).fetchone()[0]:
                check(process.poll() is None, f"the worker exited: {log_path.read_text()[-800:]}")
                check(time.monotonic() < deadline, "the worker did not connect within 30 s")
                time.sleep(0.1)
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
