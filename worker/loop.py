"""The queue loop: reads batches from pgmq and keeps up to WORKER_CONCURRENCY jobs in flight.

Threads, not asyncio: every provider SDK we use (resend, twilio, smtplib) is synchronous, and so
are the handlers; a thread per job in flight lets a slow provider block only its own job, without
wrapping each SDK call in `to_thread`. Jobs are I/O-bound, so the GIL is not the limit. Each job
takes its own connection from a psycopg pool (which reconnects after a database restart) and runs
its handler and the archive in one transaction.

Per job: the handler succeeds -> archived (unless it deferred the job with `job.retry_in`);
MalformedJob or a malformed envelope -> archived with a malformed_job alert, and logged; a
permanent DeliveryError, or any error on the last attempt -> archived and logged as failed; any
other error -> back on the queue after retry_delay(attempt) via pgmq.set_vt; the loop itself
never dies of a handler's error. Nothing is deleted: archived jobs stay in pgmq.a_<queue>.
"""

from __future__ import annotations

import importlib
import logging
import re
import select
import threading
import time
import weakref
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

import psycopg
import psycopg_pool
from psycopg.rows import dict_row

from worker import metrics
from worker.jobs import Job, MalformedJob, job_log
from worker.providers import DeliveryError, Providers, build_providers
from worker.registry import batch_factory_for, handler_for, manages_own_transactions
from worker.retry import retry_delay
from worker.settings import Settings

log = logging.getLogger("worker")

APPLICATION_NAME = "careops-worker"


@dataclass
class BatchResult:
    done: int = 0  # handled and archived
    deferred: int = 0  # no handler for its kind yet: left queued
    retried: int = 0  # failed, back on the queue after a backoff
    failed: int = 0  # failed for good (permanent error or last attempt): archived
    malformed: int = 0  # could never be handled: archived
    interrupted: int = 0  # the database went away mid-job: back after its visibility timeout
    released: int = 0  # shutdown: read but not finished, made visible again at once
    abandoned: int = 0  # shutdown: still running after the grace period (released too)

    def add(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)

    def merge(self, other: BatchResult) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def import_handlers(settings: Settings) -> None:
    """The built-in handlers plus WORKER_IMPORTS; each registers itself with @job."""
    for module in ["worker.handlers", *settings.imports()]:
        importlib.import_module(module)


def parse_envelope(body: Any) -> tuple[str, dict[str, Any]]:
    """{kind, payload} as enqueue_job writes it, or MalformedJob."""
    if not isinstance(body, dict):
        raise MalformedJob(f"job is not an object: {body!r}"[:300])
    kind, payload = body.get("kind"), body.get("payload", {})
    if not isinstance(kind, str) or not kind:
        raise MalformedJob(f"job has no kind: {body!r}"[:300])
    if payload is None:
        payload = {}
    if not isinstance(payload, dict):
        raise MalformedJob(f"{kind} payload is not an object: {payload!r}"[:300])
    return kind, payload


# pgmq before 1.4.5 (hosted Supabase ships 1.4.4) sleeps `poll_interval_ms / 1000` seconds in
# read_with_poll, an integer division: under 1000 ms it never sleeps and its backend spins at full
# CPU for the whole poll (pgmq/pgmq#343). There the worker polls with pgmq.read itself.
SERVER_POLL_SINCE = (1, 4, 5)


def read_with_poll_waits(conn: psycopg.Connection[Any], queue: str) -> bool:
    """Whether this database's pgmq.read_with_poll waits without spinning. pgmq installed as SQL
    rather than as an extension (scripts/dbctl.py) is the pgmq package's, a fixed one."""
    row = conn.execute("select extversion from pg_catalog.pg_extension where extname = 'pgmq'").fetchone()
    version = row["extversion"] if row else None
    fixed = version is None or version_key(version) >= SERVER_POLL_SINCE
    if not fixed:
        log.info("pgmq %s: queue %r is polled by the worker (its read_with_poll spins)", version, queue)
    return fixed


def version_key(version: str) -> tuple[int, ...]:
    """'1.4.4' -> (1, 4, 4); a suffix such as '-dev' is ignored."""
    return tuple(int(part) for part in re.findall(r"\d+", version)[:3])


class QueueWorker:
    def __init__(
        self,
        settings: Settings,
        pool: psycopg_pool.ConnectionPool,
        providers: Providers,
        stop: threading.Event | None = None,
    ) -> None:
        self.settings = settings
        self.pool = pool
        self.providers = providers
        self.queue = settings.queue_name
        self.stop = stop or threading.Event()
        # Whether pgmq.read_with_poll may do the waiting (read_with_poll_waits): known at the first read.
        self.server_polls: bool | None = None

    # --- queue operations ----------------------------------------------------------------

    def read(self, quantity: int, poll: bool) -> list[dict[str, Any]]:
        """Up to `quantity` jobs; with `poll`, waits up to WORKER_POLL_SECONDS for the first,
        looking again every WORKER_POLL_INTERVAL_MS (in pgmq.read_with_poll, or from here where
        that one spins: pgmq before 1.4.5)."""
        s = self.settings
        with self.pool.connection() as conn:
            if self.server_polls is None:
                self.server_polls = read_with_poll_waits(conn, self.queue)
            if poll and self.server_polls:
                return conn.execute(
                    "select msg_id, read_ct, message from pgmq.read_with_poll(%s, %s, %s, %s, %s)",
                    [
                        self.queue,
                        s.worker_visibility_timeout_seconds,
                        quantity,
                        s.worker_poll_seconds,
                        s.worker_poll_interval_ms,
                    ],
                ).fetchall()
            rows = self._read(conn, quantity)
        if rows or not poll:
            return rows
        deadline = time.monotonic() + s.worker_poll_seconds
        # No connection held while waiting; a stop ends the wait at once.
        while time.monotonic() < deadline and not self.stop.wait(s.worker_poll_interval_ms / 1000):
            with self.pool.connection() as conn:
                rows = self._read(conn, quantity)
            if rows:
                return rows
        return []

    def _read(self, conn: psycopg.Connection[Any], quantity: int) -> list[dict[str, Any]]:
        return conn.execute(
            "select msg_id, read_ct, message from pgmq.read(%s, %s, %s)",
            [self.queue, self.settings.worker_visibility_timeout_seconds, quantity],
        ).fetchall()

    def release(self, msg_ids: list[int]) -> None:
        """Make jobs visible again now (shutdown): another worker takes them."""
        if not msg_ids:
            return
        try:
            with self.pool.connection() as conn:
                for msg_id in msg_ids:
                    conn.execute("select pgmq.set_vt(%s, %s, 0)", [self.queue, msg_id])
        except (psycopg.Error, psycopg_pool.PoolTimeout):
            log.exception("could not release jobs %s; they return after their visibility timeout", msg_ids)

    def _archive(self, conn: psycopg.Connection[Any], msg_id: int) -> None:
        conn.execute("select pgmq.archive(%s, %s::bigint)", [self.queue, msg_id])

    def _archive_malformed(
        self, conn: psycopg.Connection[Any], msg_id: int, kind: str | None, error: MalformedJob
    ) -> None:
        """Archived with a malformed_job system alert, together: nothing leaves unrecorded."""
        with conn.transaction():
            conn.execute(
                "select private.raise_malformed_job_alert(%s, %s::bigint, %s, %s)",
                [self.queue, msg_id, kind, str(error)],
            )
            self._archive(conn, msg_id)

    # --- one job ---------------------------------------------------------------------------

    def handle(self, message: dict[str, Any], batch: Any = None) -> str:
        """Process one job read from the queue; returns its BatchResult outcome. Never raises.
        `batch`: what the jobs of its kind in its read batch share (see batch_contexts)."""
        msg_id, attempt = message["msg_id"], message["read_ct"]
        try:
            with self.pool.connection() as conn:
                outcome = self._handle(conn, msg_id, attempt, message["message"], batch)
        except Exception as error:
            job_log(logging.ERROR, msg_id, "?", "interrupted", attempt, error=repr(error))
            outcome = "interrupted"
        metrics.JOBS.labels(kind_label(message["message"]), outcome).inc()
        return outcome

    def _handle(
        self, conn: psycopg.Connection[Any], msg_id: int, attempt: int, body: Any, batch: Any = None
    ) -> str:
        s = self.settings
        try:
            kind, payload = parse_envelope(body)
        except MalformedJob as error:
            self._archive_malformed(conn, msg_id, None, error)
            job_log(logging.ERROR, msg_id, "?", "malformed", attempt, error=str(error))
            return "malformed"

        handler = handler_for(kind)
        if handler is None:
            conn.execute(
                "select pgmq.set_vt(%s, %s, %s)", [self.queue, msg_id, s.worker_unhandled_delay_seconds]
            )
            job_log(logging.INFO, msg_id, kind, "deferred", attempt, reason="no handler for this kind yet")
            return "deferred"

        job = Job(conn, msg_id, kind, payload, attempt, s.worker_max_attempts, self.providers, s, batch=batch)
        try:
            if manages_own_transactions(kind):
                handler(job)
                if not job.archived and not job.deferred:
                    job.archive()
            else:
                with conn.transaction():
                    handler(job)
                    if not job.archived and not job.deferred:
                        job.archive()
        except MalformedJob as error:
            self._archive_malformed(conn, msg_id, kind, error)
            job_log(logging.ERROR, msg_id, kind, "malformed", attempt, error=str(error))
            return "malformed"
        except Exception as error:
            if conn.broken:
                raise
            permanent = isinstance(error, DeliveryError) and error.permanent
            if permanent or attempt >= s.worker_max_attempts:
                self._archive(conn, msg_id)
                job_log(
                    logging.ERROR, msg_id, kind, "failed", attempt, permanent=permanent, error=repr(error)
                )
                return "failed"
            delay = retry_delay(attempt, s.worker_retry_base_seconds, s.worker_retry_max_seconds)
            conn.execute("select pgmq.set_vt(%s, %s, %s)", [self.queue, msg_id, delay])
            job_log(logging.WARNING, msg_id, kind, "retrying", attempt, retry_in_s=delay, error=repr(error))
            return "retried"
        return job.outcome

    def settle(self, contexts: dict[int, Any]) -> set[int]:
        """Right after a read, on the loop's thread: each batch context with a `settle` does its
        jobs' whole work at once (e.g. writes a batch of events and archives their jobs in one
        transaction) and returns the ids it archived; those jobs are not handed to threads.
        Never raises: on an error, the jobs run one by one as usual."""
        settled: set[int] = set()
        for context in {id(c): c for c in contexts.values()}.values():
            settle = getattr(context, "settle", None)
            if settle is None:
                continue
            try:
                with self.pool.connection() as conn:
                    settled |= settle(conn, self.settings)
            except Exception as error:
                log.warning("could not settle a batch (%r); its jobs run one by one", error)
        return settled

    def prepare(self, contexts: dict[int, Any]) -> None:
        """Right after a read (on the preparer thread): each batch context with a `prepare`
        does its set-based work ahead of its jobs (e.g. claims their messages). Never raises."""
        for context in {id(c): c for c in contexts.values()}.values():
            prepare = getattr(context, "prepare", None)
            if prepare is None:
                continue
            try:
                with self.pool.connection() as conn:
                    prepare(conn, self.settings)
            except Exception as error:
                log.warning("could not prepare a batch (%r); its jobs do it themselves", error)

    def release_unstarted(self, msg_ids: list[int], contexts: dict[int, Any]) -> None:
        """Shutdown: jobs read but never started. Their batch contexts settle what they hold
        first (e.g. undo the claims made for them), then the rest is made visible at once."""
        remaining = list(msg_ids)
        for context in {id(c): c for c in (contexts.get(m) for m in msg_ids) if c is not None}.values():
            release = getattr(context, "release", None)
            if release is None:
                continue
            try:
                with self.pool.connection() as conn:
                    settled = set(release(conn, [m for m in msg_ids if contexts.get(m) is context]))
            except (psycopg.Error, psycopg_pool.PoolTimeout):
                log.exception("could not release the batch's claims; they time out instead")
                continue
            remaining = [m for m in remaining if m not in settled]
        self.release(remaining)


def kind_label(body: Any) -> str:
    """A job's kind as a metric label: a kind with a registered handler, or `other` (bounded)."""
    kind = body.get("kind") if isinstance(body, dict) else None
    return kind if isinstance(kind, str) and handler_for(kind) is not None else "other"


def batch_contexts(batch: list[dict[str, Any]]) -> dict[int, Any]:
    """msg_id -> the context its kind's batch factory built for the jobs of that kind in this
    read batch (registry.job's `batch`); jobs of other kinds, or malformed, have none."""
    by_kind: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for message in batch:
        try:
            kind, payload = parse_envelope(message["message"])
        except MalformedJob:
            continue
        if batch_factory_for(kind) is not None:
            by_kind.setdefault(kind, []).append((message["msg_id"], payload))
    contexts: dict[int, Any] = {}
    for kind, jobs in by_kind.items():
        factory = batch_factory_for(kind)
        assert factory is not None
        context = factory(jobs)
        contexts.update((msg_id, context) for msg_id, _ in jobs)
    return contexts


class RecentUseCheck:
    """The pool's checkout check, without a round-trip for a connection in steady use.

    `ConnectionPool.check_connection` sends an empty query on every checkout: one round-trip
    per job, a third of a message's. This check sends it only when it can tell something:
    - the connection is closed or broken: refused, the pool replaces it;
    - its socket has something to read while idle in the pool (the server closed it: a restart,
      pg_terminate_backend, idle timeouts all send a FATAL error and/or EOF; or a notice):
      the full check, which raises on a dead connection and consumes anything else;
    - it was last checked out more than `idle_seconds` ago (a peer that vanished without
      closing the socket, which only time reveals): the full check;
    - otherwise (checked out moments ago, nothing on the socket): no round-trip.
    A connection that dies in the remaining window fails its job's first statement; the job is
    `interrupted` and comes back after its visibility timeout, as before this check.
    """

    def __init__(self, idle_seconds: float) -> None:
        self.idle_seconds = idle_seconds
        self._last_checkout: weakref.WeakKeyDictionary[psycopg.Connection[Any], float] = (
            weakref.WeakKeyDictionary()
        )

    def __call__(self, conn: psycopg.Connection[Any]) -> None:
        if conn.closed or conn.broken:
            raise psycopg.OperationalError("the connection is closed")
        now = time.monotonic()
        last = self._last_checkout.get(conn)
        if last is None or now - last > self.idle_seconds or _has_input(conn):
            psycopg_pool.ConnectionPool.check_connection(conn)
        self._last_checkout[conn] = now


def _has_input(conn: psycopg.Connection[Any]) -> bool:
    """Whether an idle connection's socket is readable (or errored) right now, without reading."""
    poller = select.poll()
    poller.register(conn.fileno(), select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))


def open_pool(settings: Settings) -> psycopg_pool.ConnectionPool:
    """One connection per job in flight plus the reader's and the preparer's; checked on
    checkout (RecentUseCheck), so a restarted database costs no job (the pool reconnects in the
    background). The preparer takes its connection before a batch's lock: jobs holding
    connections while they wait for that lock never keep it from finishing."""
    return psycopg_pool.ConnectionPool(
        str(settings.database_url),
        min_size=1,
        max_size=settings.worker_concurrency + 2,
        kwargs={
            "autocommit": True,
            "row_factory": dict_row,
            "application_name": APPLICATION_NAME,
            "prepare_threshold": settings.prepare_threshold,
        },
        check=RecentUseCheck(settings.worker_pool_check_idle_seconds),
        timeout=10,
        name=APPLICATION_NAME,
        open=True,
    )


def queue_loops(settings: Settings) -> list[Settings]:
    """The settings of each queue's loop: the outbox's events first (its own threads), then the
    jobs; one loop when both names are the same."""
    loops = [settings]
    if settings.event_queue_name and settings.event_queue_name != settings.queue_name:
        events = settings.model_copy(
            update={
                "queue_name": settings.event_queue_name,
                "worker_concurrency": settings.worker_event_concurrency,
            }
        )
        loops.insert(0, events)
    return loops


def run(
    settings: Settings, stop: threading.Event, burst: bool = False, providers: Providers | None = None
) -> BatchResult:
    """Drain the queues until `stop` is set, each in its own loop (queue_loops); in burst mode,
    the events, then the jobs (their messages' deliveries among them), each until nothing is
    visible or in flight."""
    import_handlers(settings)
    providers = providers or build_providers(settings)
    metrics.serve(settings.worker_metrics_port, settings.worker_metrics_address)
    totals = BatchResult()
    loops = queue_loops(settings)
    if burst:
        for loop_settings in loops:
            totals.merge(drain(loop_settings, stop, burst, providers))
        return totals
    results: list[BatchResult] = []
    failures: list[BaseException] = []

    def drain_in_thread(loop_settings: Settings) -> None:
        try:
            results.append(drain(loop_settings, stop, burst, providers))
        except BaseException as error:
            failures.append(error)
            stop.set()  # one queue's loop died: the process stops (its supervisor restarts it)

    threads = [
        threading.Thread(target=drain_in_thread, args=[loop], name=f"queue-{loop.queue_name}")
        for loop in loops
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    for result in results:
        totals.merge(result)
    return totals


def drain(settings: Settings, stop: threading.Event, burst: bool, providers: Providers) -> BatchResult:
    """One queue's loop (settings.queue_name) until `stop`; in burst mode, until it is empty."""
    totals = BatchResult()
    concurrency = max(1, settings.worker_concurrency)
    batch_size = max(1, settings.worker_batch_size)
    # Read ahead up to one batch beyond the threads, so the next batch is there when a thread frees.
    outstanding_limit = concurrency + batch_size
    in_flight: dict[Future[str], int] = {}
    contexts: dict[int, Any] = {}  # msg_id -> its batch context, while in flight
    executor = ThreadPoolExecutor(concurrency, thread_name_prefix="job")
    # Batch contexts' set-based work ahead of their jobs (DeliveryBatch.prepare: the claim), off
    # the reader's thread so the next read overlaps it. A job that starts first does it itself.
    preparer = ThreadPoolExecutor(1, thread_name_prefix="prepare")
    pool = open_pool(settings)

    def collect(finished: set[Future[str]]) -> None:
        for future in finished:
            contexts.pop(in_flight.pop(future, -1), None)
            if not future.cancelled():
                totals.add(future.result())

    log.info(
        "worker on queue %r: %d in flight, email via %s, sms via %s",
        settings.queue_name,
        concurrency,
        ",".join(providers.email.names),
        ",".join(providers.sms.names),
    )
    worker = QueueWorker(settings, pool, providers, stop)
    read_failures = 0
    try:
        while not stop.is_set():
            collect({future for future in in_flight if future.done()})
            room = outstanding_limit - len(in_flight)
            if room < max(1, batch_size // 2):
                wait(in_flight, timeout=0.5, return_when=FIRST_COMPLETED)
                continue
            try:
                batch = worker.read(min(batch_size, room), poll=not burst)
                read_failures = 0
            except (psycopg.Error, psycopg_pool.PoolTimeout) as error:
                read_failures += 1
                pause = min(10.0, 0.2 * 2**read_failures)
                log.warning("cannot read the queue (%s); again in %.1fs", error, pause)
                stop.wait(pause)
                continue
            if stop.is_set():
                worker.release([message["msg_id"] for message in batch])
                totals.released += len(batch)
                break
            if not batch:
                if burst:
                    if not in_flight:
                        break
                    wait(in_flight, return_when=FIRST_COMPLETED)
                continue
            shared = batch_contexts(batch)
            settled = worker.settle(shared) if shared else set()
            if settled:
                for message in batch:
                    if message["msg_id"] in settled:
                        totals.done += 1
                        metrics.JOBS.labels(kind_label(message["message"]), "done").inc()
                batch = [message for message in batch if message["msg_id"] not in settled]
            if shared and batch:
                preparer.submit(worker.prepare, shared)
            contexts.update(shared)
            for message in batch:
                future = executor.submit(worker.handle, message, shared.get(message["msg_id"]))
                in_flight[future] = message["msg_id"]
    finally:
        # No preparation may start after the shutdown released the jobs it would prepare.
        preparer.shutdown(wait=True, cancel_futures=True)
        _shut_down(
            worker, executor, in_flight, contexts, collect, totals, settings.worker_shutdown_grace_seconds
        )
        pool.close(timeout=1)
    log.info("worker stopped: %s", totals)
    return totals


def _shut_down(
    worker: QueueWorker,
    executor: ThreadPoolExecutor,
    in_flight: dict[Future[str], int],
    contexts: dict[int, Any],
    collect: Any,
    totals: BatchResult,
    grace_seconds: float,
) -> None:
    """Jobs not started are released at once; running ones get the grace period, then are
    released (their threads are abandoned: the process should exit)."""
    not_started = [future for future in in_flight if future.cancel()]
    worker.release_unstarted([in_flight.pop(future) for future in not_started], contexts)
    totals.released += len(not_started)
    if in_flight:
        log.info("waiting up to %ss for %d jobs in flight", grace_seconds, len(in_flight))
        finished, running = wait(in_flight, timeout=grace_seconds)
        collect(finished)
        if running:
            worker.release([in_flight[future] for future in running])
            totals.released += len(running)
            totals.abandoned += len(running)
            log.warning("released %d jobs still running after %ss", len(running), grace_seconds)
    executor.shutdown(wait=False, cancel_futures=True)
