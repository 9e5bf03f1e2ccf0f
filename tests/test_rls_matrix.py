"""The RLS matrix: every public table, every operation, every kind of caller, two workspaces.

The list of tables comes from the catalog, so a table added without declared
expectations (or without RLS) fails here. Every function in public is checked
for who may execute it, and every security definer function for a fixed
search_path.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg
import pytest
from psycopg import sql

from tests.support import Actor, User, acting_as, create_user, write_events

OPERATIONS = ("select", "insert", "update", "delete")
ALL = frozenset(OPERATIONS)
NONE: frozenset[str] = frozenset()

# PRODUCT.md: the only functions anon may execute.
ANON_RPCS = {
    "get_booking_page",
    "get_available_slots",
    "book_appointment",
    "cancel_booking",
    "reschedule_booking",
    "get_booking_by_token",
    "get_form",
    "submit_form",
    # Issue 17: the address holder confirms, by the emailed link, a booking held past the per-email limit.
    "confirm_booking",
}


@dataclass
class World:
    """Two workspaces, A and B, each with an owner and two staff; plus outsiders."""

    users: dict[str, User]
    workspaces: dict[str, uuid.UUID]
    invitations: dict[str, uuid.UUID]
    newcomer: User  # an existing user who belongs nowhere (for membership inserts)
    profileless: User  # an auth user whose profile was removed (for profile inserts)
    rows: dict[str, uuid.UUID] = field(default_factory=dict)  # other rows by name, e.g. "booking_type_a"
    booking_rows: dict[str, dict[str, uuid.UUID]] = field(default_factory=dict)  # per ws: see add_bookings


def add_booking_setup(conn: psycopg.Connection, workspace_id: uuid.UUID, owner: User, staff: User) -> None:
    """Booking configuration of a workspace: the owner (its creator, a practitioner by default) and
    one staff member take bookings; staff2 does not. The owner has hours, an override and performs
    "Matrix type"; the workspace closes on 2030-12-25."""
    conn.execute(
        "insert into public.practitioners (workspace_id, user_id) values (%s, %s)", [workspace_id, staff.id]
    )
    owner_practitioner = practitioner_of(owner, workspace_id)
    booking_type = conn.execute(
        "insert into public.booking_types (workspace_id, name, duration_minutes)"
        " values (%s, 'Matrix type', 30)"
        " returning id",
        [workspace_id],
    ).fetchone()[0]
    for statement in (
        "insert into public.booking_type_practitioners (workspace_id, booking_type_id, practitioner_id)"
        " values (%(ws)s, %(bt)s, %(pr)s)",
        "insert into public.availability_rules"
        " (workspace_id, practitioner_id, weekday, start_time, end_time)"
        " values (%(ws)s, %(pr)s, 1, '09:00', '12:00')",
        "insert into public.availability_overrides (workspace_id, practitioner_id, override_date)"
        " values (%(ws)s, %(pr)s, '2030-01-01')",
        "insert into public.workspace_closures (workspace_id, closed_on) values (%(ws)s, '2030-12-25')",
    ):
        conn.execute(
            statement,
            {"ws": workspace_id, "bt": booking_type, "pr": conn.execute(*owner_practitioner).fetchone()[0]},
        )


def practitioner_of(user: User, workspace_id: uuid.UUID) -> Statement:
    """The practitioner id of a user in a workspace, as a query (null where the caller cannot see it)."""
    return (
        "select (select id from public.practitioners where workspace_id = %s and user_id = %s)",
        [workspace_id, user.id],
    )


def build_world(conn: psycopg.Connection) -> World:
    users = {
        name: create_user(conn, full_name=name)
        for name in ("owner_a", "staff_a", "staff2_a", "owner_b", "staff_b", "staff2_b", "outsider")
    }
    workspaces: dict[str, uuid.UUID] = {}
    invitations: dict[str, uuid.UUID] = {}
    rows: dict[str, uuid.UUID] = {}
    for ws in ("a", "b"):
        workspaces[ws] = conn.execute(
            "insert into public.workspaces (name, slug, timezone, created_by)"
            " values (%s, %s, 'Europe/Paris', %s) returning id",
            [f"Clinic {ws}", f"matrix-{ws}-{secrets.token_hex(4)}", users[f"owner_{ws}"].id],
        ).fetchone()[0]
        for member, role in (
            (f"owner_{ws}", "owner"),
            (f"staff_{ws}", "staff"),
            (f"staff2_{ws}", "staff"),
        ):
            conn.execute(
                "insert into public.workspace_members (workspace_id, user_id, role) values (%s, %s, %s)",
                [workspaces[ws], users[member].id, role],
            )
        invitations[ws] = conn.execute(
            "insert into public.invitations (workspace_id, email, role, token_hash, expires_at)"
            " values (%s, %s, 'staff', private.token_hash(%s), now() + interval '7 days')"
            " returning id",
            [workspaces[ws], f"invitee-{ws}@example.test", secrets.token_urlsafe(32)],
        ).fetchone()[0]
        for name, query in (
            (
                "form",
                "insert into public.intake_forms (workspace_id, name, fields)"
                ' values (%s, \'Matrix form\', \'[{"key": "note", "type": "text", "label": "Note"}]\')'
                " returning id",
            ),
            (
                "spare_form",
                "insert into public.intake_forms (workspace_id, name, fields)"
                ' values (%s, \'Matrix spare form\', \'[{"key": "age", "type": "text", "label": "Age"}]\')'
                " returning id",
            ),
            (
                "item",
                "insert into public.inventory_items (workspace_id, name, quantity)"
                " values (%s, 'Matrix gloves', 10) returning id",
            ),
            (
                "spare_item",
                "insert into public.inventory_items (workspace_id, name)"
                " values (%s, 'Matrix spare item') returning id",
            ),
            (
                "booking_type",
                "insert into public.booking_types (workspace_id, name, duration_minutes)"
                " values (%s, 'Matrix visit', 30) returning id",
            ),
        ):
            rows[f"{name}_{ws}"] = conn.execute(query, [workspaces[ws]]).fetchone()[0]
        conn.execute(
            "insert into public.booking_type_forms (workspace_id, booking_type_id, form_id)"
            " values (%s, %s, %s)",
            [workspaces[ws], rows[f"booking_type_{ws}"], rows[f"form_{ws}"]],
        )
        conn.execute(
            "insert into public.booking_type_inventory_usage"
            " (workspace_id, booking_type_id, item_id, quantity_per_booking) values (%s, %s, %s, 1)",
            [workspaces[ws], rows[f"booking_type_{ws}"], rows[f"item_{ws}"]],
        )
    for ws in ("a", "b"):
        add_booking_setup(conn, workspaces[ws], users[f"owner_{ws}"], users[f"staff_{ws}"])
    for ws in ("a", "b"):
        conn.execute(
            "select private.raise_alert(%s, 'low_stock', 'inventory_item', gen_random_uuid(),"
            " 'Matrix alert')",
            [workspaces[ws]],
        )
    newcomer = create_user(conn, full_name="newcomer")
    profileless = create_user(conn, full_name="profileless")
    conn.execute("delete from public.profiles where id = %s", [profileless.id])
    world = World(users, workspaces, invitations, newcomer, profileless, rows)
    add_bookings(conn, world)
    add_form_submissions(conn, world)
    add_inbox_rows(conn, world)
    return world


def add_inbox_rows(conn: psycopg.Connection, world: World) -> None:
    """Per workspace: one stock count of the matrix's item (the movement row of the matrix) and
    one processed webhook event."""
    for ws, workspace_id in world.workspaces.items():
        conn.execute(
            "update public.inventory_items set quantity = quantity + 1 where id = %s",
            [world.rows[f"item_{ws}"]],
        )
        conn.execute(
            "insert into public.webhook_events (provider, event_id, event_type, outcome, workspace_id)"
            " values ('twilio', %s, 'sms.received', 'unroutable', %s)",
            [f"matrix-{ws}-{workspace_id}", workspace_id],
        )
        conn.execute(
            "insert into public.unroutable_messages (provider, event_id, channel, sender, recipients, body)"
            " values ('twilio', %s, 'sms', '+447700900999', '{+447700900998}', 'Hello?')",
            [f"matrix-{ws}-{workspace_id}"],
        )
        conn.execute(
            "insert into public.sms_opt_outs (workspace_id, phone, keyword)"
            " values (%s, '+447700900997', 'STOP')",
            [workspace_id],
        )
        conn.execute(
            "insert into public.sender_identities (workspace_id, kind, value, status)"
            " values (%s, 'sms_number', %s, 'verified')",
            [workspace_id, "+4477009" + "".join(secrets.choice("0123456789") for _ in range(5))],
        )


def add_form_submissions(conn: psycopg.Connection, world: World) -> None:
    """Per workspace: the matrix's form submission, for the customer's booking (the booking
    itself already set off a welcome, a confirmation and the customer's conversation). It uses
    the spare form: a form with submissions cannot be deleted (the answers are history)."""
    for ws, workspace_id in world.workspaces.items():
        world.booking_rows[ws]["form_submission"] = conn.execute(
            "insert into public.form_submissions (workspace_id, form_id, booking_id, contact_id, token_hash)"
            " values (%s, %s, %s, %s, private.token_hash(%s)) returning id",
            [
                workspace_id,
                world.rows[f"spare_form_{ws}"],
                world.booking_rows[ws]["booking"],
                world.booking_rows[ws]["customer"],
                secrets.token_urlsafe(32),
            ],
        ).fetchone()[0]


def add_bookings(conn: psycopg.Connection, world: World) -> None:
    """Per workspace: a booking type performed by the owner, a contact without bookings (the
    matrix's contact row), another contact with one future booking (the matrix's booking row)."""
    for ws, workspace_id in world.workspaces.items():
        rows: dict[str, uuid.UUID] = {}
        rows["practitioner"] = conn.execute(
            "select id from public.practitioners where workspace_id = %s and user_id = %s",
            [workspace_id, world.users[f"owner_{ws}"].id],
        ).fetchone()[0]
        rows["booking_type"] = conn.execute(
            "insert into public.booking_types (workspace_id, name, duration_minutes)"
            " values (%s, 'Consultation', 30) returning id",
            [workspace_id],
        ).fetchone()[0]
        for name in ("contact", "customer"):
            rows[name] = conn.execute(
                "insert into public.contacts (workspace_id, name, email) values (%s, %s, %s) returning id",
                [workspace_id, name.title(), f"{name}-{ws}@example.test"],
            ).fetchone()[0]
        rows["booking"] = conn.execute(
            "insert into public.bookings (workspace_id, booking_type_id, practitioner_id, contact_id,"
            " starts_at, ends_at, manage_token_hash)"
            " values (%s, %s, %s, %s, now() + interval '2 days', now() + interval '2 days 30 minutes',"
            " private.token_hash(%s)) returning id",
            [
                workspace_id,
                rows["booking_type"],
                rows["practitioner"],
                rows["customer"],
                secrets.token_urlsafe(32),
            ],
        ).fetchone()[0]
        world.booking_rows[ws] = rows
    write_events(conn)  # the worker wrote what the booking set off


Statement = tuple[str, list[object]]


@dataclass(frozen=True)
class TableSpec:
    """How to address one row of a workspace, insert a new one, and who may do what to it.

    `allowed` is per actor for rows of the actor's own workspace (A). Rows of the
    other workspace (B) are never reachable, except for service_role.
    """

    target: Callable[[World, str], Statement]  # a where clause selecting one row of workspace ws
    insert: Callable[[World, str], Statement]
    update_set: str  # an assignment to a column the frontend may update
    allowed: dict[str, frozenset[str]]


SPECS: dict[str, TableSpec] = {
    "workspaces": TableSpec(
        target=lambda w, ws: ("id = %s", [w.workspaces[ws]]),
        insert=lambda w, ws: (
            "insert into public.workspaces (name, slug, timezone, created_by) values ('New', %s, 'UTC', %s)",
            [f"new-{ws}-{secrets.token_hex(4)}", w.users[f"owner_{ws}"].id],
        ),
        update_set="name = name",
        allowed={
            "anon": NONE,
            "outsider": NONE,
            "staff": frozenset({"select"}),
            "owner": frozenset({"select", "update"}),
        },
    ),
    "workspace_members": TableSpec(
        target=lambda w, ws: (
            "workspace_id = %s and user_id = %s",
            [w.workspaces[ws], w.users[f"staff2_{ws}"].id],
        ),
        insert=lambda w, ws: (
            "insert into public.workspace_members (workspace_id, user_id, role) values (%s, %s, 'staff')",
            [w.workspaces[ws], w.newcomer.id],
        ),
        update_set="role = role",
        allowed={
            "anon": NONE,
            "outsider": NONE,
            "staff": frozenset({"select"}),
            "owner": frozenset({"select", "update", "delete"}),
        },
    ),
    "invitations": TableSpec(
        target=lambda w, ws: ("id = %s", [w.invitations[ws]]),
        insert=lambda w, ws: (
            "insert into public.invitations (workspace_id, email, role, token_hash, expires_at)"
            " values (%s, 'new@example.test', 'staff', private.token_hash(%s), now() + interval '1 day')",
            [w.workspaces[ws], secrets.token_urlsafe(32)],
        ),
        update_set="email = email",
        allowed={
            "anon": NONE,
            "outsider": NONE,
            "staff": NONE,
            "owner": frozenset({"select"}),
        },
    ),
    # A profile "of workspace ws" is a co-member's (staff2): visible to co-members,
    # changed only by its own user (see test_users_update_only_their_own_profile).
    "profiles": TableSpec(
        target=lambda w, ws: ("id = %s", [w.users[f"staff2_{ws}"].id]),
        insert=lambda w, ws: (
            "insert into public.profiles (id, email) values (%s, %s)",
            [w.profileless.id, w.profileless.email],
        ),
        update_set="full_name = full_name",
        allowed={
            "anon": NONE,
            "outsider": NONE,
            "staff": frozenset({"select"}),
            "owner": frozenset({"select"}),
        },
    ),
    # One settings row per workspace exists from the start (a trigger makes it): the insert
    # is an upsert so that a role allowed to insert touches one row; others lack the privilege.
    "communication_settings": TableSpec(
        target=lambda w, ws: ("workspace_id = %s", [w.workspaces[ws]]),
        insert=lambda w, ws: (
            "insert into public.communication_settings (workspace_id) values (%s)"
            " on conflict (workspace_id) do update set email_enabled = excluded.email_enabled",
            [w.workspaces[ws]],
        ),
        update_set="sender_name = sender_name",
        allowed={
            "anon": NONE,
            "outsider": NONE,
            "staff": frozenset({"select"}),
            "owner": frozenset({"select", "update"}),
        },
    ),
    "message_templates": TableSpec(
        target=lambda w, ws: (
            "workspace_id = %s and kind = 'welcome' and channel = 'email'",
            [w.workspaces[ws]],
        ),
        insert=lambda w, ws: (
            "insert into public.message_templates (workspace_id, kind, channel, subject, body)"
            " values (%s, 'welcome', 'email', 'Hello', 'Welcome, {{contact_name}}')"
            " on conflict (workspace_id, kind, channel) do update set body = excluded.body",
            [w.workspaces[ws]],
        ),
        update_set="body = body",
        allowed={
            "anon": NONE,
            "outsider": NONE,
            "staff": frozenset({"select"}),
            "owner": frozenset({"select", "update"}),
        },
    ),
    "intake_forms": TableSpec(
        target=lambda w, ws: ("id = %s", [w.rows[f"form_{ws}"]]),
        insert=lambda w, ws: (
            "insert into public.intake_forms (workspace_id, name, fields) values (%s, 'New form', %s)",
            [w.workspaces[ws], '[{"key": "age", "type": "text", "label": "Age"}]'],
        ),
        update_set="name = name",
        allowed={
            "anon": NONE,
            "outsider": NONE,
            "staff": frozenset({"select"}),
            "owner": ALL,
        },
    ),
    # Staff update quantities only (tests/test_inventory.py: other columns are forbidden).
    "inventory_items": TableSpec(
        target=lambda w, ws: ("id = %s", [w.rows[f"item_{ws}"]]),
        insert=lambda w, ws: (
            "insert into public.inventory_items (workspace_id, name) values (%s, 'New item')",
            [w.workspaces[ws]],
        ),
        update_set="quantity = quantity + 1",
        allowed={
            "anon": NONE,
            "outsider": NONE,
            "staff": frozenset({"select", "update"}),
            "owner": ALL,
        },
    ),
    "booking_type_forms": TableSpec(
        target=lambda w, ws: (
            "booking_type_id = %s and form_id = %s",
            [w.rows[f"booking_type_{ws}"], w.rows[f"form_{ws}"]],
        ),
        insert=lambda w, ws: (
            "insert into public.booking_type_forms (workspace_id, booking_type_id, form_id)"
            " values (%s, %s, %s)",
            [w.workspaces[ws], w.rows[f"booking_type_{ws}"], w.rows[f"spare_form_{ws}"]],
        ),
        update_set="form_id = form_id",
        allowed={
            "anon": NONE,
            "outsider": NONE,
            "staff": frozenset({"select"}),
            "owner": frozenset({"select", "insert", "delete"}),
        },
    ),
    "booking_type_inventory_usage": TableSpec(
        target=lambda w, ws: (
            "booking_type_id = %s and item_id = %s",
            [w.rows[f"booking_type_{ws}"], w.rows[f"item_{ws}"]],
        ),
        insert=lambda w, ws: (
            "insert into public.booking_type_inventory_usage"
            " (workspace_id, booking_type_id, item_id, quantity_per_booking) values (%s, %s, %s, 2)",
            [w.workspaces[ws], w.rows[f"booking_type_{ws}"], w.rows[f"spare_item_{ws}"]],
        ),
        update_set="quantity_per_booking = quantity_per_booking + 1",
        allowed={
            "anon": NONE,
            "outsider": NONE,
            "staff": frozenset({"select"}),
            "owner": ALL,
        },
    ),
    # Booking configuration (see add_booking_setup): staff read it; owners write it. Rows "of workspace
    # ws" are the owner's, so staff editing their own hours is tested apart (test_onboarding.py).
    "booking_types": TableSpec(
        target=lambda w, ws: ("workspace_id = %s and name = 'Matrix type'", [w.workspaces[ws]]),
        insert=lambda w, ws: (
            "insert into public.booking_types (workspace_id, name, duration_minutes)"
            " values (%s, 'New type', 45)",
            [w.workspaces[ws]],
        ),
        update_set="duration_minutes = 60",
        allowed={
            "anon": NONE,
            "outsider": NONE,
            "staff": frozenset({"select"}),
            "owner": ALL,
        },
    ),
    "practitioners": TableSpec(
        target=lambda w, ws: (
            "workspace_id = %s and user_id = %s",
            [w.workspaces[ws], w.users[f"staff_{ws}"].id],
        ),
        insert=lambda w, ws: (
            "insert into public.practitioners (workspace_id, user_id) values (%s, %s)",
            [w.workspaces[ws], w.users[f"staff2_{ws}"].id],
        ),
        update_set="active = false",
        allowed={
            "anon": NONE,
            "outsider": NONE,
            "staff": frozenset({"select"}),
            "owner": ALL,
        },
    ),
    "booking_type_practitioners": TableSpec(
        target=lambda w, ws: (
            "workspace_id = %s and practitioner_id = (select id from public.practitioners"
            " where workspace_id = %s and user_id = %s)",
            [w.workspaces[ws], w.workspaces[ws], w.users[f"owner_{ws}"].id],
        ),
        insert=lambda w, ws: (
            "insert into public.booking_type_practitioners (workspace_id, booking_type_id, practitioner_id)"
            " select bt.workspace_id, bt.id, p.id from public.booking_types bt"
            " join public.practitioners p on p.workspace_id = bt.workspace_id"
            " where bt.workspace_id = %s and bt.name = 'Matrix type' and p.user_id = %s",
            [w.workspaces[ws], w.users[f"staff_{ws}"].id],
        ),
        update_set="practitioner_id = practitioner_id",
        allowed={
            "anon": NONE,
            "outsider": NONE,
            "staff": frozenset({"select"}),
            "owner": frozenset({"select", "insert", "delete"}),
        },
    ),
    "availability_rules": TableSpec(
        target=lambda w, ws: ("workspace_id = %s and weekday = 1", [w.workspaces[ws]]),
        insert=lambda w, ws: (
            "insert into public.availability_rules"
            " (workspace_id, practitioner_id, weekday, start_time, end_time)"
            " values (%s, (select id from public.practitioners where workspace_id = %s and user_id = %s),"
            " 2, '09:00', '12:00')",
            [w.workspaces[ws], w.workspaces[ws], w.users[f"owner_{ws}"].id],
        ),
        update_set="end_time = '13:00'",
        allowed={
            "anon": NONE,
            "outsider": NONE,
            "staff": frozenset({"select"}),
            "owner": ALL,
        },
    ),
    "availability_overrides": TableSpec(
        target=lambda w, ws: ("workspace_id = %s and override_date = '2030-01-01'", [w.workspaces[ws]]),
        insert=lambda w, ws: (
            "insert into public.availability_overrides (workspace_id, practitioner_id, override_date)"
            " values (%s, (select id from public.practitioners where workspace_id = %s and user_id = %s),"
            " '2030-01-02')",
            [w.workspaces[ws], w.workspaces[ws], w.users[f"owner_{ws}"].id],
        ),
        update_set="note = 'Training'",
        allowed={
            "anon": NONE,
            "outsider": NONE,
            "staff": frozenset({"select"}),
            "owner": ALL,
        },
    ),
    "workspace_closures": TableSpec(
        target=lambda w, ws: ("workspace_id = %s and closed_on = '2030-12-25'", [w.workspaces[ws]]),
        insert=lambda w, ws: (
            "insert into public.workspace_closures (workspace_id, closed_on) values (%s, '2030-12-26')",
            [w.workspaces[ws]],
        ),
        update_set="note = 'Christmas'",
        allowed={
            "anon": NONE,
            "outsider": NONE,
            "staff": frozenset({"select"}),
            "owner": ALL,
        },
    ),
    "alerts": TableSpec(
        target=lambda w, ws: (
            "id = (select a.id from public.alerts a where a.workspace_id = %s and a.text = 'Matrix alert')",
            [w.workspaces[ws]],
        ),
        insert=lambda w, ws: (
            "insert into public.alerts (workspace_id, kind, subject_type, subject_id, text)"
            " values (%s, 'low_stock', 'inventory_item', gen_random_uuid(), 'New alert')",
            [w.workspaces[ws]],
        ),
        update_set="text = text",
        allowed={
            "anon": NONE,
            "outsider": NONE,
            "staff": frozenset({"select"}),
            "owner": frozenset({"select"}),
        },
    ),
    "contacts": TableSpec(
        target=lambda w, ws: ("id = %s", [w.booking_rows[ws]["contact"]]),
        insert=lambda w, ws: (
            "insert into public.contacts (workspace_id, name, email) values (%s, 'New', %s)",
            [w.workspaces[ws], f"new-{secrets.token_hex(4)}@example.test"],
        ),
        update_set="name = name",
        allowed={
            "anon": NONE,
            "outsider": NONE,
            "staff": frozenset({"select", "insert", "update"}),
            "owner": ALL,
        },
    ),
    # Bookings are created by book_appointment and change status through functions:
    # members read them and update the notes; nobody deletes history.
    "bookings": TableSpec(
        target=lambda w, ws: ("id = %s", [w.booking_rows[ws]["booking"]]),
        insert=lambda w, ws: (
            "insert into public.bookings (workspace_id, booking_type_id, practitioner_id, contact_id,"
            " starts_at, ends_at) values (%s, %s, %s, %s, now() + interval '3 days',"
            " now() + interval '3 days 30 minutes')",
            [
                w.workspaces[ws],
                w.booking_rows[ws]["booking_type"],
                w.booking_rows[ws]["practitioner"],
                w.booking_rows[ws]["customer"],
            ],
        ),
        update_set="notes = notes",
        allowed={
            "anon": NONE,
            "outsider": NONE,
            "staff": frozenset({"select", "update"}),
            "owner": frozenset({"select", "update"}),
        },
    ),
    # Written by the database (triggers, queue_message) and the worker; members read them.
    "conversations": TableSpec(
        target=lambda w, ws: (
            "id = (select c.id from public.conversations c where c.contact_id = %s)",
            [w.booking_rows[ws]["customer"]],
        ),
        # Every contact has its conversation from the start: an upsert touches one row.
        insert=lambda w, ws: (
            "insert into public.conversations (workspace_id, contact_id) values (%s, %s)"
            " on conflict (workspace_id, contact_id) do update set unread_count = excluded.unread_count",
            [w.workspaces[ws], w.booking_rows[ws]["contact"]],
        ),
        update_set="unread_count = unread_count",
        allowed={
            "anon": NONE,
            "outsider": NONE,
            "staff": frozenset({"select"}),
            "owner": frozenset({"select"}),
        },
    ),
    "messages": TableSpec(
        target=lambda w, ws: (
            "id = (select m.id from public.messages m where m.booking_id = %s"
            " and m.template_kind = 'booking_confirmation' and m.channel = 'email')",
            [w.booking_rows[ws]["booking"]],
        ),
        insert=lambda w, ws: (
            "insert into public.messages (workspace_id, conversation_id, direction, channel, kind, body,"
            " recipient, status, idempotency_key)"
            " select c.workspace_id, c.id, 'outbound', 'email', 'manual', 'Hello', 'x@example.test',"
            " 'queued', %s"
            " from public.conversations c where c.contact_id = %s",
            [secrets.token_hex(8), w.booking_rows[ws]["customer"]],
        ),
        update_set="body = body",
        allowed={
            "anon": NONE,
            "outsider": NONE,
            "staff": frozenset({"select"}),
            "owner": frozenset({"select"}),
        },
    ),
    "form_submissions": TableSpec(
        target=lambda w, ws: ("id = %s", [w.booking_rows[ws]["form_submission"]]),
        insert=lambda w, ws: (
            "insert into public.form_submissions (workspace_id, form_id, booking_id, contact_id, token_hash)"
            " values (%s, %s, %s, %s, private.token_hash(%s))",
            [
                w.workspaces[ws],
                w.rows[f"form_{ws}"],
                w.booking_rows[ws]["booking"],
                w.booking_rows[ws]["customer"],
                secrets.token_urlsafe(32),
            ],
        ),
        update_set="answers = answers",
        allowed={
            "anon": NONE,
            "outsider": NONE,
            "staff": frozenset({"select"}),
            "owner": frozenset({"select"}),
        },
    ),
    # Stock history: written by the database (quantity trigger, adjust_stock, complete_booking).
    "inventory_movements": TableSpec(
        target=lambda w, ws: (
            "id = (select m.id from public.inventory_movements m where m.item_id = %s order by"
            " m.created_at, m.id limit 1)",
            [w.rows[f"item_{ws}"]],
        ),
        insert=lambda w, ws: (
            "insert into public.inventory_movements (workspace_id, item_id, kind, delta, quantity_after)"
            " values (%s, %s, 'count', 1, 1)",
            [w.workspaces[ws], w.rows[f"item_{ws}"]],
        ),
        update_set="reason = reason",
        allowed={
            "anon": NONE,
            "outsider": NONE,
            "staff": frozenset({"select"}),
            "owner": frozenset({"select"}),
        },
    ),
    # Provider events seen by the webhooks: edge_api (service_role) only.
    "webhook_events": TableSpec(
        target=lambda w, ws: ("event_id = %s", [f"matrix-{ws}-{w.workspaces[ws]}"]),
        insert=lambda w, ws: (
            "insert into public.webhook_events (provider, event_id, event_type, outcome, workspace_id)"
            " values ('resend', %s, 'email.opened', 'ignored', %s)",
            [secrets.token_hex(8), w.workspaces[ws]],
        ),
        update_set="outcome = outcome",
        allowed={
            "anon": NONE,
            "outsider": NONE,
            "staff": NONE,
            "owner": NONE,
        },
    ),
    # Numbers that texted STOP: members read, inbound SMS writes.
    "sms_opt_outs": TableSpec(
        target=lambda w, ws: ("workspace_id = %s", [w.workspaces[ws]]),
        insert=lambda w, ws: (
            "insert into public.sms_opt_outs (workspace_id, phone, keyword) values (%s, %s, 'STOP')",
            [w.workspaces[ws], "+4477009" + "".join(secrets.choice("0123456789") for _ in range(5))],
        ),
        update_set="keyword = keyword",
        allowed={
            "anon": NONE,
            "outsider": NONE,
            "staff": frozenset({"select"}),
            "owner": frozenset({"select"}),
        },
    ),
    # Inbound no workspace receives: operators (service_role) only.
    "unroutable_messages": TableSpec(
        target=lambda w, ws: ("event_id = %s", [f"matrix-{ws}-{w.workspaces[ws]}"]),
        insert=lambda w, ws: (
            "with e as (insert into public.webhook_events (provider, event_id, event_type, outcome)"
            " values ('twilio', %s, 'sms.received', 'unroutable') returning provider, event_id)"
            " insert into public.unroutable_messages (provider, event_id, channel, recipients, body)"
            " select e.provider, e.event_id, 'sms', '{}', 'x' from e",
            [secrets.token_hex(8)],
        ),
        update_set="body = body",
        allowed={
            "anon": NONE,
            "outsider": NONE,
            "staff": NONE,
            "owner": NONE,
        },
    ),
    # Owners request and remove; only the platform verifies (status has no grant).
    "sender_identities": TableSpec(
        target=lambda w, ws: ("workspace_id = %s and kind = 'sms_number'", [w.workspaces[ws]]),
        insert=lambda w, ws: (
            "insert into public.sender_identities (workspace_id, kind, value)"
            " values (%s, 'email_domain', %s)",
            [w.workspaces[ws], f"matrix-{secrets.token_hex(4)}.example.test"],
        ),
        update_set="status = status",
        allowed={
            "anon": NONE,
            "outsider": NONE,
            "staff": frozenset({"select"}),
            "owner": frozenset({"select", "insert", "delete"}),
        },
    ),
}

ACTORS = ("anon", "outsider", "staff", "owner", "service_role")


def actor_for(world: World, name: str) -> Actor:
    if name == "anon":
        return Actor.anon()
    if name == "service_role":
        return Actor.service()
    user = world.users["outsider" if name == "outsider" else f"{name}_a"]
    return Actor.user(user, name)


def attempt(conn: psycopg.Connection, actor: Actor, statement: Statement, expect_rows: bool) -> bool:
    """Whether the statement succeeded for `actor` and touched exactly one row; always rolled back."""
    query, params = statement
    try:
        with conn.transaction(), acting_as(conn, actor):
            cur = conn.execute(query, params)
            touched = cur.fetchone()[0] if expect_rows else cur.rowcount
            raise _Outcome(touched == 1)
    except _Outcome as outcome:
        return outcome.allowed
    except psycopg.Error:
        return False


class _Outcome(Exception):  # noqa: N818 (carries a result out of a rolled-back block)
    def __init__(self, allowed: bool) -> None:
        self.allowed = allowed


def observe(conn: psycopg.Connection, world: World, table: str, actor: Actor, ws: str) -> frozenset[str]:
    spec = SPECS[table]
    where, params = spec.target(world, ws)
    statements: dict[str, tuple[Statement, bool]] = {
        "select": (
            (f"select count(*) from public.{table} where {where}", params),
            True,
        ),
        "insert": (spec.insert(world, ws), False),
        "update": (
            (f"update public.{table} set {spec.update_set} where {where}", params),
            False,
        ),
        "delete": ((f"delete from public.{table} where {where}", params), False),
    }
    return frozenset(
        op for op, (statement, counts) in statements.items() if attempt(conn, actor, statement, counts)
    )


def public_tables(conn: psycopg.Connection) -> dict[str, bool]:
    return dict(
        conn.execute(
            "select c.relname, c.relrowsecurity from pg_class c"
            " join pg_namespace n on n.oid = c.relnamespace"
            " where n.nspname = 'public' and c.relkind in ('r', 'p')"
        ).fetchall()
    )


def test_every_public_table_has_rls_and_declared_expectations(conn: psycopg.Connection) -> None:
    tables = public_tables(conn)
    without_rls = sorted(name for name, rls in tables.items() if not rls)
    assert not without_rls, f"tables without row level security: {without_rls}"
    undeclared = sorted(set(tables) - set(SPECS))
    assert not undeclared, f"declare RLS expectations in tests/test_rls_matrix.py for: {undeclared}"
    stale = sorted(set(SPECS) - set(tables))
    assert not stale, f"expectations declared for tables that do not exist: {stale}"


def test_no_public_view_or_matview_bypasses_rls(conn: psycopg.Connection) -> None:
    views = conn.execute(
        "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
        " where n.nspname = 'public' and c.relkind in ('v', 'm')"
        " and not coalesce('security_invoker=true' = any(c.reloptions), false)"
    ).fetchall()
    assert views == [], "public views must be created with (security_invoker = true)"


@pytest.mark.parametrize("actor_name", ACTORS)
@pytest.mark.parametrize("table", sorted(SPECS))
def test_rls_matrix(conn: psycopg.Connection, table: str, actor_name: str) -> None:
    world = build_world(conn)
    actor = actor_for(world, actor_name)
    if actor_name == "service_role":
        expected = {"own workspace": ALL, "other workspace": ALL}
    else:
        expected = {"own workspace": SPECS[table].allowed[actor_name], "other workspace": NONE}
    observed = {
        "own workspace": observe(conn, world, table, actor, "a"),
        "other workspace": observe(conn, world, table, actor, "b"),
    }
    assert observed == expected, f"{actor_name} on {table}"


def test_users_update_only_their_own_profile(conn: psycopg.Connection) -> None:
    world = build_world(conn)
    me = world.users["staff_a"]
    with acting_as(conn, Actor.user(me)):
        mine = conn.execute(
            "update public.profiles set full_name = 'New Name' where id = %s", [me.id]
        ).rowcount
        colleague = conn.execute(
            "update public.profiles set full_name = 'Hacked' where id = %s",
            [world.users["owner_a"].id],
        ).rowcount
    assert (mine, colleague) == (1, 0)


PROTECTED_COLUMNS = {
    "workspaces": ["id", "status", "created_by", "created_at"],
    "workspace_members": ["workspace_id", "user_id", "created_at"],
    "profiles": ["id", "email", "created_at"],
    "bookings": ["id", "workspace_id", "status", "starts_at", "practitioner_id", "manage_token_hash"],
}


@pytest.mark.parametrize(
    ("table", "column"),
    [(table, column) for table, columns in PROTECTED_COLUMNS.items() for column in columns],
)
def test_owners_cannot_change_protected_columns(conn: psycopg.Connection, table: str, column: str) -> None:
    world = build_world(conn)
    owner = world.users["owner_a"]
    where = {
        "workspaces": ("id = %s", [world.workspaces["a"]]),
        "workspace_members": (
            "workspace_id = %s and user_id = %s",
            [world.workspaces["a"], world.users["staff_a"].id],
        ),
        "profiles": ("id = %s", [owner.id]),
        "bookings": ("id = %s", [world.booking_rows["a"]["booking"]]),
    }[table]
    query = sql.SQL("update public.{} set {} = {} where ").format(
        sql.Identifier(table), sql.Identifier(column), sql.Identifier(column)
    ) + sql.SQL(where[0])
    allowed = attempt(conn, Actor.user(owner), (query.as_string(conn), where[1]), expect_rows=False)
    assert not allowed, f"owner changed {table}.{column}"


def test_rls_matrix_detects_a_loosened_policy(conn: psycopg.Connection) -> None:
    """The matrix is not vacuous: open one policy up and the observation changes."""
    world = build_world(conn)
    staff = actor_for(world, "staff")
    assert observe(conn, world, "invitations", staff, "b") == NONE
    conn.execute(
        'alter policy "owners read their workspaces\' invitations" on public.invitations using (true)'
    )
    assert observe(conn, world, "invitations", staff, "b") == {"select"}


def public_functions(conn: psycopg.Connection) -> list[tuple[str, str, bool, list[str] | None]]:
    return conn.execute(
        """
        select p.proname, p.oid::regprocedure::text, p.prosecdef, p.proconfig
        from pg_proc p
        join pg_namespace n on n.oid = p.pronamespace
        where n.nspname = 'public'
          and not exists (
              select 1 from pg_depend d
              where d.classid = 'pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e'
          )
        """
    ).fetchall()


# Who may execute each public function (besides the owner). A new function must be declared.
FUNCTION_EXECUTORS = {
    "create_workspace": {"authenticated", "service_role"},
    "invite_member": {"authenticated", "service_role"},
    "accept_invitation": {"authenticated", "service_role"},
    "revoke_invitation": {"authenticated", "service_role"},
    "delete_workspace": {"authenticated", "service_role"},
    "resolve_alert": {"authenticated", "service_role"},
    "retry_failed_messages": {"authenticated", "service_role"},
    "get_form": {"anon", "authenticated", "service_role"},
    "submit_form": {"anon", "authenticated", "service_role"},
    "activate_workspace": {"authenticated", "service_role"},
    "workspace_activation_status": {"authenticated", "service_role"},
    "suspend_workspace": {"authenticated", "service_role"},
    "get_booking_page": {"anon", "authenticated", "service_role"},
    "dashboard_stats": {"authenticated", "service_role"},
    "mark_conversation_read": {"authenticated", "service_role"},
    "send_message": {"authenticated", "service_role"},
    "resume_automation": {"authenticated", "service_role"},
    "adjust_stock": {"authenticated", "service_role"},
    "complete_booking": {"authenticated", "service_role"},
    "mark_no_show": {"authenticated", "service_role"},
    "get_available_slots": {"anon", "authenticated", "service_role"},
    "book_appointment": {"anon", "authenticated", "service_role"},
    "cancel_booking": {"anon", "authenticated", "service_role"},
    "confirm_booking": {"anon", "authenticated", "service_role"},
    "reschedule_booking": {"anon", "authenticated", "service_role"},
    "get_booking_by_token": {"anon", "authenticated", "service_role"},
    "create_calendar_feed": {"authenticated", "service_role"},
    "revoke_calendar_feed": {"authenticated", "service_role"},
    "cancel_workspace_booking": {"authenticated", "service_role"},
    "reschedule_workspace_booking": {"authenticated", "service_role"},
    # A computed field of contacts (select=*,sms_opted_out), under the caller's RLS.
    "sms_opted_out": {"authenticated", "service_role"},
}


def test_every_public_function_grants_exactly_the_declared_roles(conn: psycopg.Connection) -> None:
    functions = public_functions(conn)
    undeclared = sorted({name for name, *_ in functions} - set(FUNCTION_EXECUTORS))
    assert not undeclared, f"declare who may execute: {undeclared}"
    for name, signature, _, _ in functions:
        executors = {
            role
            for role in ("anon", "authenticated", "service_role")
            if conn.execute("select has_function_privilege(%s, %s, 'execute')", [role, signature]).fetchone()[
                0
            ]
        }
        assert executors == FUNCTION_EXECUTORS[name], signature
        assert ("anon" in executors) == (name in ANON_RPCS), signature
        public_grant = conn.execute(
            "select p.proacl is null or exists (select 1 from aclexplode(p.proacl) a"
            " where a.grantee = 0 and a.privilege_type = 'EXECUTE')"
            " from pg_proc p where p.oid = %s::regprocedure",
            [signature],
        ).fetchone()[0]
        assert not public_grant, f"{signature} is executable by PUBLIC"


def test_security_definer_functions_pin_an_empty_search_path(conn: psycopg.Connection) -> None:
    offenders = conn.execute(
        """
        select p.oid::regprocedure::text
        from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where p.prosecdef
          and n.nspname not in ('pg_catalog', 'information_schema', 'auth', 'pgmq', 'cron', 'extensions')
          and not coalesce('search_path=""' = any(p.proconfig), false)
        """
    ).fetchall()
    assert offenders == []


def test_definer_functions_live_in_private_unless_they_are_rpcs(conn: psycopg.Connection) -> None:
    stray = [
        signature
        for name, signature, definer, _ in public_functions(conn)
        if definer and name not in FUNCTION_EXECUTORS
    ]
    assert stray == []


def test_private_schema_is_not_exposed_to_anon(conn: psycopg.Connection) -> None:
    executable = conn.execute(
        """
        select p.oid::regprocedure::text from pg_proc p
        join pg_namespace n on n.oid = p.pronamespace
        where n.nspname = 'private' and has_function_privilege('anon', p.oid, 'execute')
        """
    ).fetchall()
    assert executable == []
    assert not conn.execute("select has_schema_privilege('anon', 'private', 'usage')").fetchone()[0]


def test_members_list_embeds_profiles_as_postgrest_would(conn: psycopg.Connection) -> None:
    """PostgREST embeds along foreign keys: workspace_members.user_id -> profiles.id."""
    fk = conn.execute(
        "select confrelid::regclass::text from pg_constraint"
        " where conrelid = 'public.workspace_members'::regclass and contype = 'f'"
        " and conkey = array[(select attnum from pg_attribute"
        "   where attrelid = 'public.workspace_members'::regclass and attname = 'user_id')]"
    ).fetchone()
    assert fk == ("profiles",)
    world = build_world(conn)
    with acting_as(conn, Actor.user(world.users["staff_a"])):
        names = conn.execute(
            "select p.full_name from public.workspace_members m join public.profiles p on p.id = m.user_id"
            " where m.workspace_id = %s order by p.full_name",
            [world.workspaces["a"]],
        ).fetchall()
    assert names == [("owner_a",), ("staff2_a",), ("staff_a",)]
