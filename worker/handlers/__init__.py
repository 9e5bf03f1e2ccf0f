"""The built-in job handlers; importing this package registers them (see worker.registry.job)."""

from worker.handlers import events, invitations, messages

__all__ = ["events", "invitations", "messages"]
