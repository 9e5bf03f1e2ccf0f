"""The dashboard's sections (bookings, leads, forms, inventory, alerts) against an independent
computation in Python on a seeded workspace, at instants around midnight UTC in far-off zones,
as the owner, a staff member, an outsider and service_role."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import uuid
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from psycopg.rows import dict_row

from edge_api.models import DashboardStats
from tests.booking_support import BookingWorkspace, create_booking_workspace
from tests.support import Actor, User, run_as

UTC = dt.UTC
FORM_FIELDS = '[{"key": "allergies", "type": "text", "label": "Allergies", "required": true}]'
ALERT_KINDS = ("form_overdue", "low_stock", "message_failed")


@dataclass
class Seed:
    """What the test wrote, kept in Python: the expected numbers are computed from this."""

    place: BookingWorkspace
    practitioner_names: dict[uuid.UUID, str]
    inactive_practitioner: uuid.UUID
    bookings: list[dict[str, Any]] = field(default_factory=list)
    contacts: list[dt.datetime] = field(default_factory=list)
    conversations: list[tuple[dt.datetime | None, int]] = field(default_factory=list)
    forms: list[tuple[str, dt.datetime | None]] = field(default_factory=list)
    items: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)


def seed_workspace(conn: psycopg.Connection, timezone: str, at: dt.datetime, rng: random.Random) -> Seed:
    """A workspace with three practitioners (one made inactive) and a random month of activity
    around `at`, written as postgres (the automation triggers fire; conversations are set last)."""
    place = create_booking_workspace(conn, timezone=timezone, practitioners=3)
    names = dict(
        conn.execute(
            "select p.id, pr.full_name from public.practitioners as p"
            " join public.profiles as pr on pr.id = p.user_id where p.workspace_id = %s",
            [place.workspace_id],
        ).fetchall()
    )
    inactive = place.practitioners[2]
    conn.execute("update public.practitioners set active = false where id = %s", [inactive])
    seed = Seed(place, names, inactive)

    contact_ids = []
    for n in range(40):
        created_at = at + dt.timedelta(minutes=rng.randint(-45 * 24 * 60, 24 * 60))
        contact_ids.append(
            conn.execute(
                "insert into public.contacts (workspace_id, name, email, created_at)"
                " values (%s, %s, %s, %s) returning id",
                [place.workspace_id, f"Contact {n}", f"c{n}-{uuid.uuid4().hex[:6]}@example.test", created_at],
            ).fetchone()[0]
        )
        seed.contacts.append(created_at)

    # Bookings on a 30-minute grid from 32 days before `at` to 10 days after: distinct slots
    # per practitioner, so none overlap. Both ends of today are always among them.
    day = at.astimezone(ZoneInfo(timezone)).date()
    day_start = dt.datetime.combine(day, dt.time(), ZoneInfo(timezone)).astimezone(UTC)
    grid_start = (at - dt.timedelta(days=32)).replace(minute=0, second=0, microsecond=0)
    slots = [grid_start + dt.timedelta(minutes=30 * k) for k in range(42 * 48)]
    for practitioner_id in place.practitioners:
        chosen = set(rng.sample(slots, 60)) | {day_start, day_start + dt.timedelta(days=1)}
        for starts_at in sorted(chosen):
            statuses = ["confirmed", "confirmed", "completed", "no_show", "cancelled"]
            status = "confirmed" if starts_at == day_start else rng.choice(statuses)
            booking_id = conn.execute(
                "insert into public.bookings (workspace_id, booking_type_id, practitioner_id, contact_id,"
                " starts_at, ends_at, status, cancelled_at) values (%s, %s, %s, %s, %s, %s, %s, %s)"
                " returning id",
                [
                    place.workspace_id,
                    place.booking_type_id,
                    practitioner_id,
                    rng.choice(contact_ids),
                    starts_at,
                    starts_at + dt.timedelta(minutes=30),
                    status,
                    starts_at if status == "cancelled" else None,
                ],
            ).fetchone()[0]
            seed.bookings.append(
                {
                    "id": booking_id,
                    "practitioner_id": practitioner_id,
                    "starts_at": starts_at,
                    "status": status,
                }
            )

    # Conversations: one per contact (the triggers made some), in a state the test decides.
    conn.execute(
        "insert into public.conversations (workspace_id, contact_id) select workspace_id, id"
        " from public.contacts where workspace_id = %s on conflict do nothing",
        [place.workspace_id],
    )
    for (conversation_id,) in conn.execute(
        "select id from public.conversations where workspace_id = %s", [place.workspace_id]
    ).fetchall():
        last = rng.choice([None, at - dt.timedelta(minutes=rng.randint(0, 60 * 24 * 60))])
        unread = rng.choice([0, 0, 1, 2, 5])
        conn.execute(
            "update public.conversations set last_message_at = %s, unread_count = %s where id = %s",
            [last, unread, conversation_id],
        )
        seed.conversations.append((last, unread))

    form_id = conn.execute(
        "insert into public.intake_forms (workspace_id, name, fields) values (%s, 'Intake', %s) returning id",
        [place.workspace_id, FORM_FIELDS],
    ).fetchone()[0]
    conn.execute("delete from public.form_submissions where workspace_id = %s", [place.workspace_id])
    for booking in rng.sample(seed.bookings, 30):
        status = rng.choice(["pending", "overdue", "completed"])
        completed_at = (
            at - dt.timedelta(minutes=rng.randint(-600, 40 * 24 * 60)) if status == "completed" else None
        )
        conn.execute(
            "insert into public.form_submissions (workspace_id, form_id, booking_id, contact_id, token_hash,"
            " status, completed_at, answers)"
            " select b.workspace_id, %s, b.id, b.contact_id, %s, %s, %s, %s from public.bookings as b"
            " where b.id = %s",
            [
                form_id,
                hashlib.sha256(uuid.uuid4().bytes).digest(),
                status,
                completed_at,
                json.dumps({"allergies": "none"}) if completed_at else None,
                booking["id"],
            ],
        )
        seed.forms.append((status, completed_at))

    for n in range(12):
        item = {
            "name": f"Item {n:02d}",
            "unit": rng.choice(["boxes", "ml"]),
            "quantity": rng.choice([0, 1, 2.5, 5, 10, 40]),
            "low_stock_threshold": rng.choice([0, 2, 5, 10]),
            "active": rng.random() > 0.2,
        }
        item["id"] = conn.execute(
            "insert into public.inventory_items"
            " (workspace_id, name, unit, quantity, low_stock_threshold, active)"
            " values (%s, %s, %s, %s, %s, %s) returning id",
            [
                place.workspace_id,
                item["name"],
                item["unit"],
                item["quantity"],
                item["low_stock_threshold"],
                item["active"],
            ],
        ).fetchone()[0]
        seed.items.append(item)

    for n in range(14):
        created_at = at - dt.timedelta(minutes=rng.randint(1, 20 * 24 * 60))
        alert = {
            "kind": rng.choice(ALERT_KINDS),
            "severity": rng.choice(["info", "warning", "critical"]),
            "text": f"Alert {n}",
            "subject_type": "thing",
            "subject_id": uuid.uuid4(),
            "created_at": created_at,
            "resolved_at": rng.choice([None, None, created_at + dt.timedelta(minutes=5)]),
        }
        alert["id"] = conn.execute(
            "insert into public.alerts"
            " (workspace_id, kind, severity, subject_type, subject_id, text, created_at,"
            " resolved_at) values (%s, %s, %s, %s, %s, %s, %s, %s) returning id",
            [
                place.workspace_id,
                alert["kind"],
                alert["severity"],
                alert["subject_type"],
                alert["subject_id"],
                alert["text"],
                created_at,
                alert["resolved_at"],
            ],
        ).fetchone()[0]
        seed.alerts.append(alert)
    return seed


def expected_sections(seed: Seed, at: dt.datetime) -> dict[str, Any]:
    """The numbers, computed in Python with zoneinfo from what was seeded."""
    zone = ZoneInfo(seed.place.timezone)
    today = at.astimezone(zone).date()

    def local_midnight(day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(), zone).astimezone(UTC)

    day_start, day_end = local_midnight(today), local_midnight(today + dt.timedelta(days=1))
    week_end = local_midnight(today + dt.timedelta(days=8))
    month_ago, week_ago = at - dt.timedelta(days=30), at - dt.timedelta(days=7)
    live = [b for b in seed.bookings if b["status"] != "cancelled"]
    today_bookings = [b for b in live if day_start <= b["starts_at"] < day_end]
    past_month = [b for b in seed.bookings if month_ago <= b["starts_at"] < at]
    per_practitioner = {
        p: sum(1 for b in today_bookings if b["practitioner_id"] == p) for p in seed.place.practitioners
    }
    listed = [p for p in seed.place.practitioners if p != seed.inactive_practitioner or per_practitioner[p]]
    by_practitioner = [
        {"practitioner_id": str(p), "full_name": seed.practitioner_names[p], "bookings": per_practitioner[p]}
        for p in sorted(listed, key=lambda p: (-per_practitioner[p], seed.practitioner_names[p], p))
    ]
    low = sorted(
        (i for i in seed.items if i["active"] and i["quantity"] <= i["low_stock_threshold"]),
        key=lambda i: (
            i["low_stock_threshold"] != 0,
            i["quantity"] / i["low_stock_threshold"] if i["low_stock_threshold"] else 0,
            i["name"],
        ),
    )
    open_alerts = [a for a in seed.alerts if a["resolved_at"] is None]
    newest = sorted(open_alerts, key=lambda a: (-a["created_at"].timestamp(), a["id"]))[:5]
    kinds: dict[str, int] = {}
    for alert in open_alerts:
        kinds[alert["kind"]] = kinds.get(alert["kind"], 0) + 1
    return {
        "bookings": {
            "today": len(today_bookings),
            "next_7_days": sum(1 for b in live if day_end <= b["starts_at"] < week_end),
            "last_30_days": {
                status: sum(1 for b in past_month if b["status"] == status)
                for status in ("completed", "no_show", "cancelled")
            },
            "today_by_practitioner": by_practitioner,
        },
        "leads": {
            "new_contacts_7_days": sum(1 for c in seed.contacts if week_ago <= c <= at),
            "new_contacts_30_days": sum(1 for c in seed.contacts if month_ago <= c <= at),
            "open_conversations": sum(1 for last, _ in seed.conversations if last and last >= month_ago),
            "unread_conversations": sum(1 for _, unread in seed.conversations if unread > 0),
            "unread_messages": sum(unread for _, unread in seed.conversations),
        },
        "forms": {
            "pending": sum(1 for status, _ in seed.forms if status == "pending"),
            "overdue": sum(1 for status, _ in seed.forms if status == "overdue"),
            "completed_30_days": sum(1 for _, done in seed.forms if done and month_ago <= done <= at),
        },
        "inventory": {
            "items": sum(1 for i in seed.items if i["active"]),
            "low_stock_count": len(low),
            "low_stock": [
                {
                    "id": str(i["id"]),
                    "name": i["name"],
                    "unit": i["unit"],
                    "quantity": i["quantity"],
                    "low_stock_threshold": i["low_stock_threshold"],
                }
                for i in low
            ],
        },
        "alerts": {
            "open": len(open_alerts),
            "open_by_kind": kinds,
            "newest": [
                {
                    "id": str(a["id"]),
                    "kind": a["kind"],
                    "severity": a["severity"],
                    "text": a["text"],
                    "subject_type": a["subject_type"],
                    "subject_id": str(a["subject_id"]),
                    "created_at": a["created_at"],
                }
                for a in newest
            ],
        },
    }


def stats_at(conn: psycopg.Connection, actor: Actor, workspace_id: uuid.UUID, at: dt.datetime) -> dict:
    return run_as(conn, actor, "select private.dashboard_stats_at(%s, %s)", [workspace_id, at])[0][0]


def comparable(sections: dict[str, Any]) -> dict[str, Any]:
    """Numbers as numbers and instants as instants (JSON gives 2.5 and ISO strings)."""
    result = json.loads(json.dumps(sections, default=str))
    for alert in result["alerts"]["newest"]:
        alert["created_at"] = dt.datetime.fromisoformat(alert["created_at"]).astimezone(UTC)
    for item in result["inventory"]["low_stock"]:
        item["quantity"] = float(item["quantity"])
        item["low_stock_threshold"] = float(item["low_stock_threshold"])
    return result


SECTIONS = ("bookings", "leads", "forms", "inventory", "alerts")


@pytest.mark.parametrize(
    ("timezone", "at"),
    [
        # NZDT (UTC+13): local midnight is 11:00 UTC, so around midnight UTC it is already noon
        ("Pacific/Auckland", "2026-11-25T10:59:59Z"),
        ("Pacific/Auckland", "2026-11-25T11:00:00Z"),
        ("Pacific/Auckland", "2026-11-25T23:59:59Z"),
        ("Pacific/Auckland", "2026-11-26T00:00:00Z"),
        # HST (UTC-10): midnight UTC is 14:00 of the previous local day
        ("Pacific/Honolulu", "2026-11-25T23:59:59Z"),
        ("Pacific/Honolulu", "2026-11-26T00:00:00Z"),
        ("Pacific/Honolulu", "2026-11-26T09:59:59Z"),
        ("Pacific/Honolulu", "2026-11-26T10:00:00Z"),
        # the week ahead crosses NZ's DST start (2026-09-27): a 23-hour day
        ("Pacific/Auckland", "2026-09-22T12:30:00Z"),
    ],
)
def test_sections_match_an_independent_computation(conn: psycopg.Connection, timezone: str, at: str) -> None:
    instant = dt.datetime.fromisoformat(at)
    rng = random.Random(f"{timezone}{at}")  # noqa: S311 (reproducible test data)
    seed = seed_workspace(conn, timezone, instant, rng)
    other = seed_workspace(conn, timezone, instant, rng)  # never counted for the first
    expected = expected_sections(seed, instant)
    for item in expected["inventory"]["low_stock"]:
        item["quantity"] = float(item["quantity"])
        item["low_stock_threshold"] = float(item["low_stock_threshold"])

    owner, staff = seed.place.users[0], seed.place.users[1]
    as_owner = stats_at(conn, Actor.user(owner), seed.place.workspace_id, instant)
    assert as_owner["workspace"]["today_local"] == instant.astimezone(ZoneInfo(timezone)).date().isoformat()
    assert comparable({k: as_owner[k] for k in SECTIONS}) == expected
    assert expected["bookings"]["today"] > 0  # the seed always books both ends of the day
    DashboardStats.model_validate(as_owner)

    # Staff see the same sections (they read all of these tables); only invitations differ.
    as_staff = stats_at(conn, Actor.user(staff), seed.place.workspace_id, instant)
    assert {k: as_staff[k] for k in SECTIONS} == {k: as_owner[k] for k in SECTIONS}
    assert as_staff["invitations"] is None
    assert as_owner["invitations"] == {"pending": 0}

    as_service = stats_at(conn, Actor.service(), seed.place.workspace_id, instant)
    assert {k: as_service[k] for k in SECTIONS} == {k: as_owner[k] for k in SECTIONS}

    # The other workspace's owner gets its own numbers, and not_found for this one.
    other_owner = Actor.user(other.place.users[0])
    mine = stats_at(conn, other_owner, other.place.workspace_id, instant)
    assert (
        comparable({k: mine[k] for k in SECTIONS})["bookings"]
        == expected_sections(other, instant)["bookings"]
    )
    with pytest.raises(psycopg.Error) as refused:
        stats_at(conn, other_owner, seed.place.workspace_id, instant)
    assert refused.value.diag.message_primary == "not_found"

    # The same numbers once the closed days are counted into private.dashboard_days, as the
    # schedule does (tests/test_dashboard_days.py: how the counted days stay exact).
    assert conn.execute("select private.fill_dashboard_days(%s)", [instant]).fetchone()[0] > 0
    assert (
        conn.execute(
            "select count(*) from private.dashboard_days where workspace_id = %s and not stale",
            [seed.place.workspace_id],
        ).fetchone()[0]
        >= 28
    )
    assert stats_at(conn, Actor.user(owner), seed.place.workspace_id, instant) == as_owner


def test_an_empty_workspace_has_zeros_and_empty_lists(conn: psycopg.Connection) -> None:
    place = create_booking_workspace(conn, timezone="Pacific/Honolulu")
    owner: User = place.users[0]
    body = stats_at(conn, Actor.user(owner), place.workspace_id, dt.datetime(2026, 11, 26, tzinfo=UTC))
    assert {k: body[k] for k in SECTIONS} == {
        "bookings": {
            "today": 0,
            "next_7_days": 0,
            "last_30_days": {"completed": 0, "no_show": 0, "cancelled": 0},
            "today_by_practitioner": [
                {
                    "practitioner_id": str(place.practitioners[0]),
                    "full_name": owner.metadata["full_name"],
                    "bookings": 0,
                }
            ],
        },
        "leads": {
            "new_contacts_7_days": 0,
            "new_contacts_30_days": 0,
            "open_conversations": 0,
            "unread_conversations": 0,
            "unread_messages": 0,
        },
        "forms": {"pending": 0, "overdue": 0, "completed_30_days": 0},
        "inventory": {"items": 0, "low_stock_count": 0, "low_stock": []},
        "alerts": {"open": 0, "open_by_kind": {}, "newest": []},
    }


def test_the_low_stock_list_stops_at_20_and_counts_them_all(conn: psycopg.Connection) -> None:
    place = create_booking_workspace(conn)
    conn.execute(
        "insert into public.inventory_items (workspace_id, name, quantity, low_stock_threshold)"
        " select %s, 'Item ' || lpad(n::text, 2, '0'), n, 30 from generate_series(1, 25) as n",
        [place.workspace_id],
    )
    body = stats_at(conn, Actor.user(place.users[0]), place.workspace_id, dt.datetime.now(UTC))
    assert body["inventory"]["items"] == 25
    assert body["inventory"]["low_stock_count"] == 25
    assert [i["name"] for i in body["inventory"]["low_stock"]] == [f"Item {n:02d}" for n in range(1, 21)]


# private.dashboard_stats_at is security definer: it checks membership once and then reads each
# table as its owner. That shows a member what RLS would show them only while every table it reads
# keeps these select policies; narrowing one (or adding a restrictive one) must revisit the function.
MEMBER_RULE = (
    "(workspace_id = ANY (( SELECT private.member_workspace_ids() AS member_workspace_ids)::uuid[]))"
)
POLICIES_THE_DASHBOARD_RELIES_ON = {
    "alerts": MEMBER_RULE,
    "bookings": MEMBER_RULE,
    "contacts": MEMBER_RULE,
    "conversations": MEMBER_RULE,
    "form_submissions": MEMBER_RULE,
    "inventory_items": MEMBER_RULE,
    "practitioners": MEMBER_RULE,
    "workspace_members": MEMBER_RULE,
    "workspaces": MEMBER_RULE.replace("workspace_id", "id", 1),
    # owners only: the function returns invitations only to owners (and service_role)
    "invitations": (
        "(workspace_id = ANY (( SELECT private.owner_workspace_ids() AS owner_workspace_ids)::uuid[]))"
    ),
    # co-members': every practitioner is a member of its workspace (practitioners_member_fkey)
    "profiles": (
        "((id = ( SELECT auth.uid() AS uid))"
        " OR (id = ANY (( SELECT private.co_member_ids() AS co_member_ids)::uuid[])))"
    ),
    # no policy: only service_role and definers read the day rollups
    "dashboard_days": None,
}


def test_the_definer_reads_only_tables_whose_policies_it_applies(conn: psycopg.Connection) -> None:
    source = conn.execute(
        "select prosrc from pg_proc where oid = 'private.dashboard_stats_at(uuid, timestamptz)'::regprocedure"
    ).fetchone()[0]
    tables_read = {
        name
        for (name,) in conn.execute(
            "select c.relname from pg_class as c join pg_namespace as n on n.oid = c.relnamespace"
            " where c.relkind = 'r' and n.nspname in ('public', 'private')"
            " and %s ~ ('\\m' || n.nspname || '\\.' || c.relname || '\\M')",
            [source],
        )
    }
    assert tables_read == set(POLICIES_THE_DASHBOARD_RELIES_ON)
    read_policies: dict[str, list[tuple[str, list[str], str]]] = {}
    for row in conn.cursor(row_factory=dict_row).execute(
        "select tablename, permissive, roles::text[] as roles, qual from pg_policies"
        " where schemaname in ('public', 'private') and tablename = any(%s) and cmd in ('SELECT', 'ALL')",
        [list(tables_read)],
    ):
        read_policies.setdefault(row["tablename"], []).append((row["permissive"], row["roles"], row["qual"]))
    assert read_policies == {
        table: [("PERMISSIVE", ["authenticated"], qual)]
        for table, qual in POLICIES_THE_DASHBOARD_RELIES_ON.items()
        if qual is not None
    }
