from collections.abc import Callable

from worker.jobs import Job

Handler = Callable[[Job], None]

_handlers: dict[str, Handler] = {}
_own_transactions: set[str] = set()


def job(kind: str, *, own_transactions: bool = False) -> Callable[[Handler], Handler]:
    """Register the handler for one job kind.

    By default the handler runs inside one transaction that also archives the job: its writes
    and the archive commit together, or neither does. With `own_transactions=True` the handler
    gets an autocommit connection and opens transactions itself: for effects outside the
    database that must be claimed (committed) before they happen and recorded after, e.g.
    claim a message row, send, then record the result and `job.archive()` in one transaction.
    The loop archives the job after the handler returns unless the handler already did.
    """

    def register(handler: Handler) -> Handler:
        if kind in _handlers:
            raise ValueError(f"a handler for {kind!r} is already registered")
        _handlers[kind] = handler
        if own_transactions:
            _own_transactions.add(kind)
        return handler

    return register


def handler_for(kind: str) -> Handler | None:
    return _handlers.get(kind)


def manages_own_transactions(kind: str) -> bool:
    return kind in _own_transactions
