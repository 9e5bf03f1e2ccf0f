from collections.abc import Callable
from typing import Any

from worker.jobs import Job

Handler = Callable[[Job], None]
# Builds the context the jobs of one kind in one pgmq.read batch share (Job.batch), from their
# (msg_id, payload) pairs in read order; see worker.handlers.messages.DeliveryBatch.
BatchFactory = Callable[[list[tuple[int, dict[str, Any]]]], Any]

_handlers: dict[str, Handler] = {}
_own_transactions: set[str] = set()
_batch_factories: dict[str, BatchFactory] = {}


def job(
    kind: str, *, own_transactions: bool = False, batch: BatchFactory | None = None
) -> Callable[[Handler], Handler]:
    """Register the handler for one job kind.

    By default the handler runs inside one transaction that also archives the job: its writes
    and the archive commit together, or neither does. With `own_transactions=True` the handler
    gets an autocommit connection and opens transactions itself: for effects outside the
    database that must be claimed (committed) before they happen and recorded after, e.g.
    claim a message row, send, then record the result and `job.archive()` in one transaction.
    The loop archives the job after the handler returns unless the handler already did.

    With `batch`, the loop calls `batch(jobs)` once per read batch with the (msg_id, payload)
    of that batch's jobs of this kind and hands the result to each of them as `job.batch`
    (set-based work per batch, e.g. one claim for all its messages). If the object has a
    `settle(conn, settings) -> set[int]` method, the loop calls it right after the read, on its
    own thread: it does the jobs' whole work at once and returns the ids it archived, which are
    then done and never handed to threads (the others run as usual). If it has a
    `prepare(conn, settings)` method, the loop calls it right after the read, before the jobs
    are handed to threads. If it has a
    `release(conn, msg_ids) -> list[int]` method, the loop calls it at shutdown for the
    batch's jobs that never started, before making them visible again; it returns the ids it
    already settled itself.
    """

    def register(handler: Handler) -> Handler:
        if kind in _handlers:
            raise ValueError(f"a handler for {kind!r} is already registered")
        _handlers[kind] = handler
        if own_transactions:
            _own_transactions.add(kind)
        if batch is not None:
            _batch_factories[kind] = batch
        return handler

    return register


def handler_for(kind: str) -> Handler | None:
    return _handlers.get(kind)


def manages_own_transactions(kind: str) -> bool:
    return kind in _own_transactions


def batch_factory_for(kind: str) -> BatchFactory | None:
    return _batch_factories.get(kind)
