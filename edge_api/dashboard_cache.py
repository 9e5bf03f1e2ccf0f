"""Dashboards computed at most once per `max_age_seconds` per workspace and view, in this process.

Every staff member with the dashboard open polls the same figures; computing them costs the
database ~3 ms on a large workspace, checking who asks costs a tenth of that. So
GET /dashboard/stats checks the caller on every request (private.dashboard_viewer: member or
not, owner or staff) and answers from this cache when it holds that workspace's dashboard in
the caller's view, computed less than `max_age_seconds` ago. Entries are keyed by workspace
and view, so a staff member never gets the owners' view, and a removed member is refused
at once. Concurrent requests for a dashboard nobody holds share one computation.

Per process, like every other cache of edge_api: N processes compute a dashboard at most N
times per `max_age_seconds`.
"""

import asyncio
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter

# Requests for cold dashboards of different workspaces wait on the same lock only when their
# ids hash alike: a fixed set of locks, however many workspaces come by.
LOCK_STRIPES = 64


@dataclass(frozen=True)
class Dashboard:
    text: str
    computed_at: float  # time.monotonic() when the request that computed it was sent


class DashboardCache:
    def __init__(self, max_age_seconds: float, max_entries: int, registry: CollectorRegistry) -> None:
        self.max_age_seconds = max_age_seconds
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[uuid.UUID, str], Dashboard] = OrderedDict()
        self._locks = [asyncio.Lock() for _ in range(LOCK_STRIPES)]
        self.answers = Counter(
            "careops_dashboard_answers",
            "GET /dashboard/stats answers by where the figures came from: computed by the database,"
            " or a cached dashboard at most DASHBOARD_CACHE_SECONDS old.",
            ["source"],
            registry=registry,
        )
        for source in ("cache", "database"):
            self.answers.labels(source)

    @property
    def enabled(self) -> bool:
        return self.max_age_seconds > 0

    def fresh(self, workspace_id: uuid.UUID) -> dict[str, str]:
        """The workspace's dashboards young enough to answer with, by view."""
        if not self.enabled:
            return {}
        oldest = time.monotonic() - self.max_age_seconds
        return {
            view: entry.text
            for view in ("owner", "staff", "service")
            if (entry := self._entries.get((workspace_id, view))) is not None and entry.computed_at > oldest
        }

    def store(self, workspace_id: uuid.UUID, view: str, text: str, computed_at: float) -> None:
        if not self.enabled:
            return
        key = (workspace_id, view)
        self._entries[key] = Dashboard(text, computed_at)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def lock(self, workspace_id: uuid.UUID) -> asyncio.Lock:
        return self._locks[hash(workspace_id) % LOCK_STRIPES]

    def __len__(self) -> int:
        return len(self._entries)
