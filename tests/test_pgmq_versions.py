"""What we use of pgmq, on the version we develop against (1.13.0) and on the one hosted Supabase
ships (1.4.4, supabase/compat/vendor): each in a scratch database built as the test template is
(scripts/dbctl.py: the compat layer, pgmq at that version, then every migration as postgres).

pg_cron, which the migrations create, may only be created in cron.database_name (the test
database itself) or in contrib_regression (pg_cron's own test database, allowed by its install
script): the scratch databases take that name, one version after the other.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import psycopg_pool
import pytest
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

import worker.handlers  # noqa: F401  (the built-in handlers register before a test swaps the registry)
from tests.test_worker import archived_ids, pending, send, settings_for
from worker.jobs import Job
from worker.loop import QueueWorker, read_with_poll_waits, run
from worker.providers import build_providers

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from dbctl import LOCAL_HOSTS, migrate, prepare, with_database  # noqa: E402

VERSIONS = ["1.13.0", "1.4.4"]
SCRATCH_DB = "contrib_regression"
QUEUES = ("events", "jobs")


@pytest.fixture(scope="module")
def admin_url(db_url: str) -> str:
    """The local test cluster's superuser over its Unix socket, as the Makefile's admin_url."""
    parts = urlsplit(db_url)
    if parts.hostname not in LOCAL_HOSTS:
        pytest.skip("builds databases with the local test cluster's superuser")
    return f"postgresql://supabase_admin@/postgres?host=/var/run/postgresql&port={parts.port or 5432}"


@pytest.fixture(scope="module", params=VERSIONS)
def pgmq_db(request: pytest.FixtureRequest, db_url: str, admin_url: str) -> Iterator[str]:
    """A scratch database: compat layer, pgmq at this version (made as the foundation makes it,
    schema first), every migration with `supabase db push`; dropped afterwards."""
    version: str = request.param
    url = with_database(db_url, SCRATCH_DB)
    drop = sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(SCRATCH_DB))
    with psycopg.connect(with_database(admin_url, "template1"), autocommit=True) as admin:
        admin.execute(drop)
        admin.execute(sql.SQL("create database {} owner postgres").format(sql.Identifier(SCRATCH_DB)))
        try:
            prepare(url, admin_url)
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("create schema pgmq")
                conn.execute(
                    sql.SQL("create extension pgmq with schema pgmq version {}").format(sql.Literal(version))
                )
            migrate(url)
            yield url
        finally:
            admin.execute(drop)


@pytest.fixture
def scratch(pgmq_db: str) -> Iterator[psycopg.Connection[Any]]:
    """An autocommit connection to the scratch database, its queues and archives empty."""
    with psycopg.connect(pgmq_db, autocommit=True) as conn:
        for queue in QUEUES:
            conn.execute("select pgmq.purge_queue(%s)", [queue])
            conn.execute(sql.SQL("truncate pgmq.{}").format(sql.Identifier(f"a_{queue}")))
        yield conn


def extversion(conn: psycopg.Connection[Any]) -> str:
    return conn.execute("select extversion from pg_extension where extname = 'pgmq'").fetchone()[0]


def queued(conn: psycopg.Connection[Any]) -> dict[str, list[Any]]:
    """queue -> its jobs' bodies, in send order."""
    return {
        queue: [
            body
            for (body,) in conn.execute(
                sql.SQL("select message from pgmq.{} order by msg_id").format(sql.Identifier(f"q_{queue}"))
            ).fetchall()
        ]
        for queue in QUEUES
    }


def test_the_version_is_installed_and_its_read_with_poll_judged(
    pgmq_db: str, scratch: psycopg.Connection[Any]
) -> None:
    version = extversion(scratch)
    assert version in VERSIONS
    with psycopg.connect(pgmq_db, row_factory=dict_row) as conn:
        assert read_with_poll_waits(conn, "jobs") is (version != "1.4.4")


def test_enqueue_routes_message_events_to_events_and_the_rest_to_jobs(
    scratch: psycopg.Connection[Any],
) -> None:
    scratch.execute("select private.enqueue_job('message_events', '{\"e\": 1}'::jsonb)")
    scratch.execute("select private.enqueue_job('deliver_message', '{\"d\": 1}'::jsonb)")
    later = scratch.execute("select private.enqueue_job('deliver_message', '{\"d\": 2}', 30)").fetchone()[0]
    assert 25 < pending(scratch, "jobs")[later][1] <= 30
    assert scratch.execute(
        "select private.enqueue_jobs('message_events', array['{\"e\": 2}', '{\"e\": 3}']::jsonb[]),"
        " private.enqueue_jobs('deliver_message', array['{\"d\": 3}']::jsonb[]),"
        " private.enqueue_jobs('deliver_message', array[]::jsonb[])"
    ).fetchone() == (2, 1, 0)
    assert queued(scratch) == {
        "events": [{"kind": "message_events", "payload": {"e": n}} for n in (1, 2, 3)],
        "jobs": [{"kind": "deliver_message", "payload": {"d": n}} for n in (1, 2, 3)],
    }


def test_the_outbox_s_direct_insert_makes_the_row_pgmq_send_makes(scratch: psycopg.Connection[Any]) -> None:
    """private.enqueue_events (a booking's one job) inserts into pgmq.q_events itself: on this
    version, its row is pgmq.send's but for the id and the times, and pgmq reads, archives and
    counts it alike."""
    events = [{"kind": "booked", "booking_id": "b1", "revision": 1}]
    body = {"kind": "message_events", "payload": {"events": events}}
    sent = scratch.execute("select pgmq.send('events', %s)", [Jsonb(body)]).fetchone()[0]
    direct = scratch.execute("select private.enqueue_events(%s)", [Jsonb(events)]).fetchone()[0]
    rows = {
        row["msg_id"]: row
        for row in scratch.cursor(row_factory=dict_row).execute("select * from pgmq.q_events").fetchall()
    }
    assert set(rows) == {sent, direct}
    assert direct == sent + 1  # the same identity sequence
    for row in rows.values():
        assert timedelta(0) <= row["vt"] - row["enqueued_at"] < timedelta(seconds=1)  # visible at once
    times = ("msg_id", "enqueued_at", "vt")
    assert {k: v for k, v in rows[direct].items() if k not in times} == {
        k: v for k, v in rows[sent].items() if k not in times
    }
    read = scratch.execute("select msg_id, read_ct, message from pgmq.read('events', 30, 10)").fetchall()
    assert read == [(sent, 1, body), (direct, 1, body)]
    assert scratch.execute(
        "select pgmq.archive('events', array[%s, %s]::bigint[])", [sent, direct]
    ).fetchone()
    assert archived_ids(scratch, "events") == {sent, direct}
    assert scratch.execute("select total_messages from pgmq.metrics('events')").fetchone()[0] >= 2


def test_the_worker_reads_archives_and_retries_on_both_queues(
    pgmq_db: str, scratch: psycopg.Connection[Any], handlers: Any
) -> None:
    """worker.loop.run, burst (pgmq.read) then waiting (read_with_poll or the worker's own poll):
    handled jobs archived, a failing one back later (pgmq.set_vt)."""
    seen: list[tuple[str, int]] = []

    @handlers("message_events")
    def events(job: Job) -> None:
        seen.append(("message_events", job.payload["n"]))

    @handlers("pgmq_probe")
    def probe(job: Job) -> None:
        if job.payload["n"] < 0:
            raise RuntimeError("provider down")
        seen.append(("pgmq_probe", job.payload["n"]))

    event = scratch.execute("select private.enqueue_job('message_events', '{\"n\": 1}'::jsonb)").fetchone()[0]
    done = send(scratch, "jobs", "pgmq_probe", {"n": 2})
    failing = send(scratch, "jobs", "pgmq_probe", {"n": -1})
    settings = settings_for(
        pgmq_db,
        "jobs",
        event_queue_name="events",
        worker_retry_base_seconds=100,
        worker_retry_max_seconds=100,
    )

    totals = run(settings, threading.Event(), burst=True)

    assert (totals.done, totals.retried) == (2, 1)
    assert sorted(seen) == [("message_events", 1), ("pgmq_probe", 2)]
    assert archived_ids(scratch, "events") == {event}
    assert archived_ids(scratch, "jobs") == {done}
    read_ct, hidden_for = pending(scratch, "jobs")[failing]
    assert read_ct == 1
    assert 45 < hidden_for <= 100

    # Waiting reads: a job sent while the loop waits is picked up by that read.
    stop = threading.Event()
    loop = threading.Thread(target=run, args=[settings, stop])
    loop.start()
    try:
        time.sleep(0.3)
        late = send(scratch, "jobs", "pgmq_probe", {"n": 3})
        deadline = time.monotonic() + 5
        while late not in archived_ids(scratch, "jobs") and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        loop.join(10)
    assert not loop.is_alive()
    assert late in archived_ids(scratch, "jobs")


def test_metrics_snapshot_reports_both_queues(scratch: psycopg.Connection[Any]) -> None:
    scratch.execute("select private.enqueue_job('message_events', '{}'::jsonb)")
    scratch.execute("select private.enqueue_jobs('deliver_message', array['{}', '{}']::jsonb[])")
    families = scratch.execute("select private.metrics_snapshot()").fetchone()[0]
    depth = next(family for family in families if family["name"] == "careops_queue_depth")
    by_queue = {sample["labels"]["queue"]: sample["value"] for sample in depth["samples"]}
    assert by_queue == {"events": 1, "jobs": 2}


def test_prune_queue_archive_deletes_old_archived_jobs(scratch: psycopg.Connection[Any]) -> None:
    old = send(scratch, "jobs", "pgmq_probe", {})
    new = send(scratch, "events", "pgmq_probe", {})
    for queue, msg_id in (("jobs", old), ("events", new)):
        scratch.execute("select pgmq.archive(%s, %s::bigint)", [queue, msg_id])
    scratch.execute("update pgmq.a_jobs set archived_at = now() - interval '8 days'")
    assert scratch.execute("select private.prune_queue_archive()").fetchone()[0] == {
        "archived_jobs": 1,
        "cron_runs": 0,
    }
    assert archived_ids(scratch, "jobs") == set()
    assert archived_ids(scratch, "events") == {new}


def backend_cpu_seconds(pid: int) -> float:
    """utime + stime of a process of this machine (the test cluster's backend), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_an_idle_poll_does_not_spin_the_backend(pgmq_db: str, scratch: psycopg.Connection[Any]) -> None:
    """The worker's waiting read on an empty queue, with the default 10 ms interval: on pgmq 1.4.4
    read_with_poll would sleep 10 / 1000 = 0 s between reads and its backend would burn a core."""
    settings = settings_for(pgmq_db, "jobs", worker_poll_seconds=2, worker_poll_interval_ms=10)
    stop = threading.Event()
    with psycopg_pool.ConnectionPool(
        pgmq_db, min_size=1, max_size=1, kwargs={"autocommit": True, "row_factory": dict_row}
    ) as pool:
        with pool.connection() as conn:
            pid = conn.execute("select pg_backend_pid() as pid").fetchone()["pid"]
        reader = QueueWorker(settings, pool, build_providers(settings), stop)
        if not Path(f"/proc/{pid}").exists():
            pytest.skip("the test cluster's backends are not processes of this machine")
        threading.Timer(1.5, stop.set).start()  # the client-side wait ends at a stop
        cpu_before, started = backend_cpu_seconds(pid), time.monotonic()
        assert reader.read(10, poll=True) == []
        cpu, wall = backend_cpu_seconds(pid) - cpu_before, time.monotonic() - started
    print(f"pgmq {extversion(scratch)}: backend cpu {cpu:.2f} s over {wall:.2f} s of idle poll")
    assert wall >= 1.4
    assert cpu < 0.25 * wall
