from collections.abc import Callable

from worker.jobs import Job

Handler = Callable[[Job], None]

_handlers: dict[str, Handler] = {}


def job(kind: str) -> Callable[[Handler], Handler]:
    """Register the handler for one job kind."""

    def register(handler: Handler) -> Handler:
        if kind in _handlers:
            raise ValueError(f"a handler for {kind!r} is already registered")
        _handlers[kind] = handler
        return handler

    return register


def handler_for(kind: str) -> Handler | None:
    return _handlers.get(kind)
