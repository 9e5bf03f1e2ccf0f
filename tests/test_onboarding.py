"""Owner onboarding through the PostgREST protocol: from sign-up to a bookable public page.

Everything after sign-up runs as the owner (role authenticated + JWT claims), the way
supabase-js writes tables under RLS and calls RPCs; the last step is anon reading the page.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from tests.support import Actor, User, create_user, error_of, race_behind_lock, rpc, rpc_error, run_as
from tests.test_rls_matrix import SPECS, attempt, build_world


def one(conn: psycopg.Connection, actor: Actor, query: str, params: list[Any] | None = None) -> Any:
    """The single value a statement returns, as `actor`."""
    rows = run_as(conn, actor, query, params or [])
    assert len(rows) == 1, rows
    return rows[0][0]


def test_onboarding_from_signup_to_bookable_page(conn: psycopg.Connection) -> None:
    # Sign-up as GoTrue does it: the profile comes from a trigger on auth.users.
    owner_user = create_user(conn, email="nora@north.test", full_name="Nora North")
    owner = Actor.user(owner_user)
    slug = f"north-{secrets.token_hex(4)}"

    created = rpc(
        conn, owner, "create_workspace", p_name="North Clinic", p_slug=slug, p_timezone="Europe/Paris"
    )
    workspace_id = created[0][0]
    assert one(conn, owner, "select status from public.workspaces where id = %s", [workspace_id]) == "draft"

    status = rpc(conn, owner, "workspace_activation_status", p_workspace_id=workspace_id)[0][0]
    assert status["ready"] is False
    assert status["missing"] == ["email_sender", "bookable_type"]
    assert rpc_error(conn, Actor.anon(), "get_booking_page", p_workspace_slug=slug) == "not_found"

    # Communication: the settings row exists from the start; the owner fills in the sender.
    updated = run_as(
        conn,
        owner,
        "update public.communication_settings"
        " set sender_name = 'North Clinic', sender_email = 'Hello@North.test'"
        " where workspace_id = %s returning sender_email",
        [workspace_id],
    )
    assert updated == [("hello@north.test",)]

    # The owner is already a practitioner (the simplest path needs no extra step).
    practitioner_id = one(
        conn,
        owner,
        "select id from public.practitioners where workspace_id = %s and user_id = %s",
        [workspace_id, owner_user.id],
    )

    booking_type_id = one(
        conn,
        owner,
        "insert into public.booking_types (workspace_id, name, description, duration_minutes,"
        " buffer_after_minutes, min_notice_minutes, max_days_ahead, location)"
        " values (%s, ' Initial consultation ', 'A first talk.\nBring your notes.', 45, 15, 120, 30,"
        " '12 Rue du Nord, Paris') returning id",
        [workspace_id],
    )
    assert (
        one(
            conn,
            owner,
            "select slot_interval_minutes from public.booking_types where id = %s",
            [booking_type_id],
        )
        == 45
    )
    run_as(
        conn,
        owner,
        "insert into public.booking_type_practitioners (workspace_id, booking_type_id, practitioner_id)"
        " values (%s, %s, %s)",
        [workspace_id, booking_type_id, practitioner_id],
    )
    # Monday to Friday, two windows a day; a day off and a closure.
    run_as(
        conn,
        owner,
        "insert into public.availability_rules"
        " (workspace_id, practitioner_id, weekday, start_time, end_time)"
        " select %s, %s, d, w.s::time, w.e::time from generate_series(1, 5) as d,"
        " (values ('09:00', '12:30'), ('14:00', '18:00')) as w (s, e)",
        [workspace_id, practitioner_id],
    )
    run_as(
        conn,
        owner,
        "insert into public.availability_overrides (workspace_id, practitioner_id, override_date, note)"
        " values (%s, %s, '2030-03-04', 'Training')",
        [workspace_id, practitioner_id],
    )
    run_as(
        conn,
        owner,
        "insert into public.workspace_closures (workspace_id, closed_on, note)"
        " values (%s, '2030-12-25', 'Christmas')",
        [workspace_id],
    )

    # An intake form and stock used per booking, attached to the type.
    form_id = one(
        conn,
        owner,
        "insert into public.intake_forms (workspace_id, name, fields) values (%s, 'Intake', %s) returning id",
        [
            workspace_id,
            json.dumps([{"key": "reason", "type": "long_text", "label": "Why?", "required": True}]),
        ],
    )
    run_as(
        conn,
        owner,
        "insert into public.booking_type_forms (workspace_id, booking_type_id, form_id) values (%s, %s, %s)",
        [workspace_id, booking_type_id, form_id],
    )
    item_id = one(
        conn,
        owner,
        "insert into public.inventory_items (workspace_id, name, unit, quantity, low_stock_threshold)"
        " values (%s, 'Gloves', 'pairs', 50, 10) returning id",
        [workspace_id],
    )
    run_as(
        conn,
        owner,
        "insert into public.booking_type_inventory_usage"
        " (workspace_id, booking_type_id, item_id, quantity_per_booking) values (%s, %s, %s, 1)",
        [workspace_id, booking_type_id, item_id],
    )
    # Staff are invited by email (they accept on their own; onboarding does not wait for them).
    assert rpc(conn, owner, "invite_member", p_workspace_id=workspace_id, p_email="sam@north.test")

    activation = rpc(conn, owner, "activate_workspace", p_workspace_id=workspace_id)[0][0]
    assert (activation["activated"], activation["status"], activation["missing"]) == (True, "active", [])
    assert one(conn, owner, "select status from public.workspaces where id = %s", [workspace_id]) == "active"

    page = rpc(conn, Actor.anon(), "get_booking_page", p_workspace_slug=slug)[0][0]
    assert page == {
        "workspace": {"name": "North Clinic", "slug": slug, "timezone": "Europe/Paris"},
        "booking_types": [
            {
                "id": str(booking_type_id),
                "name": "Initial consultation",
                "description": "A first talk.\nBring your notes.",
                "duration_minutes": 45,
                "location": "12 Rue du Nord, Paris",
                "practitioners": [{"id": str(practitioner_id), "display_name": "Nora North"}],
            }
        ],
    }
    assert "north.test" not in json.dumps(page), "the public page never shows an email"


# --- the checklist, one missing item at a time ---------------------------------------------


@dataclass
class Setup:
    owner: User
    staff: User
    workspace_id: uuid.UUID
    slug: str
    booking_type_id: uuid.UUID
    practitioner_id: uuid.UUID


def complete_setup(conn: psycopg.Connection) -> Setup:
    """A draft workspace that satisfies every requirement (written directly: setup, not the subject)."""
    owner = create_user(conn, full_name="Olga Owner")
    staff = create_user(conn, full_name="Stan Staff")
    slug = f"ready-{secrets.token_hex(4)}"
    workspace_id = conn.execute(
        "insert into public.workspaces (name, slug, timezone, created_by)"
        " values ('Ready', %s, 'Europe/London', %s)"
        " returning id",
        [slug, owner.id],
    ).fetchone()[0]
    conn.execute(
        "insert into public.workspace_members (workspace_id, user_id, role)"
        " values (%s, %s, 'owner'), (%s, %s, 'staff')",
        [workspace_id, owner.id, workspace_id, staff.id],
    )
    conn.execute(
        "update public.communication_settings set sender_email = 'desk@ready.test' where workspace_id = %s",
        [workspace_id],
    )
    practitioner_id = conn.execute(
        "select id from public.practitioners where workspace_id = %s and user_id = %s",
        [workspace_id, owner.id],
    ).fetchone()[0]
    booking_type_id = conn.execute(
        "insert into public.booking_types (workspace_id, name, duration_minutes) values (%s, 'Check-up', 30)"
        " returning id",
        [workspace_id],
    ).fetchone()[0]
    conn.execute(
        "insert into public.booking_type_practitioners (workspace_id, booking_type_id, practitioner_id)"
        " values (%s, %s, %s)",
        [workspace_id, booking_type_id, practitioner_id],
    )
    conn.execute(
        "insert into public.availability_rules"
        " (workspace_id, practitioner_id, weekday, start_time, end_time)"
        " values (%s, %s, 3, '10:00', '16:00')",
        [workspace_id, practitioner_id],
    )
    return Setup(owner, staff, workspace_id, slug, booking_type_id, practitioner_id)


BREAKERS: dict[str, tuple[str, str]] = {
    "email channel off": (
        "email_sender",
        "update public.communication_settings set email_enabled = false where workspace_id = %(ws)s",
    ),
    "no sender email": (
        "email_sender",
        "update public.communication_settings set sender_email = null where workspace_id = %(ws)s",
    ),
    "sms on without a number": (
        "sms_sender",
        "update public.communication_settings set sms_enabled = true where workspace_id = %(ws)s",
    ),
    "booking type inactive": (
        "bookable_type",
        "update public.booking_types set active = false where id = %(bt)s",
    ),
    "no booking type": ("bookable_type", "delete from public.booking_types where id = %(bt)s"),
    "nobody performs the type": (
        "bookable_type",
        "delete from public.booking_type_practitioners where booking_type_id = %(bt)s",
    ),
    "practitioner inactive": (
        "bookable_type",
        "update public.practitioners set active = false where id = %(pr)s",
    ),
    "practitioner without hours": (
        "bookable_type",
        "delete from public.availability_rules where practitioner_id = %(pr)s",
    ),
    "practitioner without a name": (
        "practitioner_names",
        "update public.profiles set full_name = '' where id = %(owner)s",
    ),
}


@pytest.mark.parametrize("breaker", sorted(BREAKERS))
def test_activation_refuses_each_missing_item_alone_and_changes_nothing(
    conn: psycopg.Connection, breaker: str
) -> None:
    setup = complete_setup(conn)
    code, statement = BREAKERS[breaker]
    conn.execute(
        statement,
        {
            "ws": setup.workspace_id,
            "bt": setup.booking_type_id,
            "pr": setup.practitioner_id,
            "owner": setup.owner.id,
        },
    )
    owner = Actor.user(setup.owner)
    before = conn.execute(
        "select w.* from public.workspaces w where id = %s", [setup.workspace_id]
    ).fetchone()

    report = rpc(conn, owner, "activate_workspace", p_workspace_id=setup.workspace_id)[0][0]

    assert (report["activated"], report["status"], report["ready"], report["missing"]) == (
        False,
        "draft",
        False,
        [code],
    )
    assert [item["code"] for item in report["checklist"] if not item["done"]] == [code]
    after = conn.execute("select w.* from public.workspaces w where id = %s", [setup.workspace_id]).fetchone()
    assert after == before
    status = rpc(
        conn, Actor.user(setup.staff), "workspace_activation_status", p_workspace_id=setup.workspace_id
    )
    assert status[0][0]["missing"] == [code]


def test_activation_with_everything_in_place(conn: psycopg.Connection) -> None:
    setup = complete_setup(conn)
    status = rpc(
        conn, Actor.user(setup.staff), "workspace_activation_status", p_workspace_id=setup.workspace_id
    )
    assert status[0][0]["ready"] is True
    assert [item["code"] for item in status[0][0]["checklist"]] == [
        "email_sender",
        "sms_sender",
        "bookable_type",
        "practitioner_names",
    ]
    report = rpc(conn, Actor.user(setup.owner), "activate_workspace", p_workspace_id=setup.workspace_id)[0][0]
    assert (report["activated"], report["status"], report["missing"]) == (True, "active", [])
    again = rpc(conn, Actor.user(setup.owner), "activate_workspace", p_workspace_id=setup.workspace_id)[0][0]
    assert (again["activated"], again["status"]) == (True, "active")


def test_who_may_activate_suspend_and_read_the_checklist(conn: psycopg.Connection) -> None:
    setup = complete_setup(conn)
    staff, outsider = Actor.user(setup.staff), Actor.user(create_user(conn))
    ws = setup.workspace_id
    assert rpc_error(conn, staff, "activate_workspace", p_workspace_id=ws) == "forbidden"
    assert rpc_error(conn, staff, "suspend_workspace", p_workspace_id=ws) == "forbidden"
    assert rpc_error(conn, outsider, "activate_workspace", p_workspace_id=ws) == "not_found"
    assert rpc_error(conn, outsider, "workspace_activation_status", p_workspace_id=ws) == "not_found"
    assert rpc_error(conn, outsider, "suspend_workspace", p_workspace_id=ws) == "not_found"
    anonymous_user = Actor("authenticated", {"role": "authenticated"}, "no user")
    assert rpc_error(conn, anonymous_user, "activate_workspace", p_workspace_id=ws) == "not_authenticated"
    assert conn.execute("select status from public.workspaces where id = %s", [ws]).fetchone()[0] == "draft"


def test_suspend_hides_the_page_and_reactivation_brings_it_back(conn: psycopg.Connection) -> None:
    setup = complete_setup(conn)
    owner, anon = Actor.user(setup.owner), Actor.anon()
    draft = error_of(conn, anon, "select public.get_booking_page(p_workspace_slug => %s)", [setup.slug])
    unknown = error_of(
        conn, anon, "select public.get_booking_page(p_workspace_slug => %s)", ["no-such-place"]
    )
    assert draft is not None
    assert unknown is not None
    assert (draft.sqlstate, draft.diag.message_primary, draft.diag.message_detail) == (
        unknown.sqlstate,
        unknown.diag.message_primary,
        unknown.diag.message_detail,
    )
    assert draft.sqlstate == "PT404"

    # Suspending a draft leaves it a draft.
    assert rpc(conn, owner, "suspend_workspace", p_workspace_id=setup.workspace_id)[0][0]["status"] == "draft"
    rpc(conn, owner, "activate_workspace", p_workspace_id=setup.workspace_id)
    assert rpc(conn, anon, "get_booking_page", p_workspace_slug=setup.slug.upper())[0][0]["booking_types"]

    assert (
        rpc(conn, owner, "suspend_workspace", p_workspace_id=setup.workspace_id)[0][0]["status"]
        == "suspended"
    )
    suspended = error_of(conn, anon, "select public.get_booking_page(p_workspace_slug => %s)", [setup.slug])
    assert suspended is not None
    assert (suspended.diag.message_primary, suspended.diag.message_detail) == (
        unknown.diag.message_primary,
        unknown.diag.message_detail,
    )

    report = rpc(conn, owner, "activate_workspace", p_workspace_id=setup.workspace_id)[0][0]
    assert (report["activated"], report["status"]) == (True, "active")
    assert (
        rpc(conn, anon, "get_booking_page", p_workspace_slug=setup.slug)[0][0]["workspace"]["name"] == "Ready"
    )


def test_booking_page_lists_only_what_the_public_can_book(conn: psycopg.Connection) -> None:
    setup = complete_setup(conn)
    ws = setup.workspace_id
    staff_practitioner = conn.execute(
        "insert into public.practitioners (workspace_id, user_id) values (%s, %s) returning id",
        [ws, setup.staff.id],
    ).fetchone()[0]
    conn.execute(
        "insert into public.booking_type_practitioners (workspace_id, booking_type_id, practitioner_id)"
        " values (%s, %s, %s)",
        [ws, setup.booking_type_id, staff_practitioner],
    )
    # Not on the page: an inactive type, a type nobody performs, an inactive practitioner's name.
    conn.execute(
        "insert into public.booking_types (workspace_id, name, duration_minutes, active)"
        " values (%s, 'Retired', 30, false), (%s, 'Unstaffed', 30, true)",
        [ws, ws],
    )
    inactive_user = create_user(conn, full_name="Ina Inactive")
    conn.execute(
        "insert into public.workspace_members (workspace_id, user_id, role) values (%s, %s, 'staff')",
        [ws, inactive_user.id],
    )
    inactive = conn.execute(
        "insert into public.practitioners (workspace_id, user_id, active)"
        " values (%s, %s, false) returning id",
        [ws, inactive_user.id],
    ).fetchone()[0]
    conn.execute(
        "insert into public.booking_type_practitioners (workspace_id, booking_type_id, practitioner_id)"
        " values (%s, %s, %s)",
        [ws, setup.booking_type_id, inactive],
    )
    rpc(conn, Actor.user(setup.owner), "activate_workspace", p_workspace_id=ws)

    page = rpc(conn, Actor.anon(), "get_booking_page", p_workspace_slug=setup.slug)[0][0]

    assert [t["name"] for t in page["booking_types"]] == ["Check-up"]
    assert page["booking_types"][0]["practitioners"] == [
        {"id": str(setup.practitioner_id), "display_name": "Olga Owner"},
        {"id": str(staff_practitioner), "display_name": "Stan Staff"},
    ]
    text = json.dumps(page)
    assert setup.owner.email not in text
    assert str(setup.owner.id) not in text


# --- hours: staff edit their own, owners everyone's ----------------------------------------


def test_staff_edit_their_own_hours_but_not_colleagues(conn: psycopg.Connection) -> None:
    setup = complete_setup(conn)
    ws = setup.workspace_id
    mine = conn.execute(
        "insert into public.practitioners (workspace_id, user_id) values (%s, %s) returning id",
        [ws, setup.staff.id],
    ).fetchone()[0]
    staff = Actor.user(setup.staff)

    rule_id = one(
        conn,
        staff,
        "insert into public.availability_rules"
        " (workspace_id, practitioner_id, weekday, start_time, end_time)"
        " values (%s, %s, 2, '08:00', '12:00') returning id",
        [ws, mine],
    )
    assert (
        run_as(
            conn, staff, "update public.availability_rules set end_time = '13:00' where id = %s", [rule_id]
        )
        == []
    )
    assert one(
        conn, staff, "select end_time::text from public.availability_rules where id = %s", [rule_id]
    ) == ("13:00:00")
    one(
        conn,
        staff,
        "insert into public.availability_overrides (workspace_id, practitioner_id, override_date)"
        " values (%s, %s, '2030-05-01') returning id",
        [ws, mine],
    )

    # The owner's hours, overrides and the workspace closures are out of reach.
    for statement, params in (
        (
            "insert into public.availability_rules"
            " (workspace_id, practitioner_id, weekday, start_time, end_time)"
            " values (%s, %s, 2, '08:00', '09:00')",
            [ws, setup.practitioner_id],
        ),
        (
            "insert into public.availability_overrides (workspace_id, practitioner_id, override_date)"
            " values (%s, %s, '2030-05-01')",
            [ws, setup.practitioner_id],
        ),
        ("insert into public.workspace_closures (workspace_id, closed_on) values (%s, '2030-05-01')", [ws]),
        (
            "update public.availability_rules set practitioner_id = %s where id = %s",
            [setup.practitioner_id, rule_id],
        ),
    ):
        error = error_of(conn, staff, statement, params)
        assert error is not None, statement
        assert error.sqlstate == "42501", statement
    touched = conn.execute(
        "select count(*) from public.availability_rules where practitioner_id = %s", [mine]
    )
    assert touched.fetchone()[0] == 1
    # Updates and deletes of the owner's hours see no row.
    for statement in (
        "update public.availability_rules set end_time = '17:00' where practitioner_id = %s returning id",
        "delete from public.availability_rules where practitioner_id = %s returning id",
    ):
        assert run_as(conn, staff, statement, [setup.practitioner_id]) == [], statement
    owner_rules = "select count(*) from public.availability_rules where practitioner_id = %s"
    assert conn.execute(owner_rules, [setup.practitioner_id]).fetchone()[0] == 1

    # Owners edit anyone's hours.
    owner = Actor.user(setup.owner)
    assert run_as(
        conn, owner, "delete from public.availability_rules where id = %s returning id", [rule_id]
    ) == [(rule_id,)]


def test_a_member_who_leaves_stops_being_a_practitioner(conn: psycopg.Connection) -> None:
    setup = complete_setup(conn)
    conn.execute(
        "insert into public.practitioners (workspace_id, user_id) values (%s, %s)",
        [setup.workspace_id, setup.staff.id],
    )
    run_as(
        conn,
        Actor.user(setup.staff),
        "delete from public.workspace_members where workspace_id = %s and user_id = %s",
        [setup.workspace_id, setup.staff.id],
    )
    left = conn.execute(
        "select count(*) from public.practitioners where workspace_id = %s and user_id = %s",
        [setup.workspace_id, setup.staff.id],
    )
    assert left.fetchone()[0] == 0


def test_a_practitioner_must_be_a_member(conn: psycopg.Connection) -> None:
    setup = complete_setup(conn)
    stranger = create_user(conn)
    error = error_of(
        conn,
        Actor.user(setup.owner),
        "insert into public.practitioners (workspace_id, user_id) values (%s, %s)",
        [setup.workspace_id, stranger.id],
    )
    assert error is not None
    assert error.sqlstate == "23503"


# --- concurrency ----------------------------------------------------------------------------


@pytest.fixture
def committed_setup(autocommit_conn: psycopg.Connection) -> Any:
    """complete_setup, committed (for real concurrent connections); removed afterwards."""
    with autocommit_conn.transaction():
        setup = complete_setup(autocommit_conn)
    yield setup
    autocommit_conn.execute("delete from public.workspaces where id = %s", [setup.workspace_id])
    autocommit_conn.execute("delete from auth.users where id = any(%s)", [[setup.owner.id, setup.staff.id]])


def insert_rule(setup: Setup, start: str, end: str) -> Callable[[psycopg.Connection], Any]:
    def call(conn: psycopg.Connection) -> Any:
        return conn.execute(
            "insert into public.availability_rules"
            " (workspace_id, practitioner_id, weekday, start_time, end_time)"
            " values (%s, %s, 5, %s, %s) returning id",
            [setup.workspace_id, setup.practitioner_id, start, end],
        ).fetchone()[0]

    return call


def test_concurrent_overlapping_windows_one_wins_with_a_code(
    db_url: str, autocommit_conn: psycopg.Connection, committed_setup: Setup
) -> None:
    owner = Actor.user(committed_setup.owner)
    first, second = race_behind_lock(
        db_url,
        autocommit_conn,
        (owner, insert_rule(committed_setup, "09:00", "12:00")),
        (owner, insert_rule(committed_setup, "11:00", "13:00")),
    )
    assert isinstance(first, uuid.UUID)
    assert second == "availability_overlap"
    windows = autocommit_conn.execute(
        "select start_time::text, end_time::text from public.availability_rules"
        " where practitioner_id = %s and weekday = 5",
        [committed_setup.practitioner_id],
    ).fetchall()
    assert windows == [("09:00:00", "12:00:00")]


def test_concurrent_windows_that_do_not_overlap_both_land(
    db_url: str, autocommit_conn: psycopg.Connection, committed_setup: Setup
) -> None:
    owner = Actor.user(committed_setup.owner)
    first, second = race_behind_lock(
        db_url,
        autocommit_conn,
        (owner, insert_rule(committed_setup, "09:00", "12:00")),
        (owner, insert_rule(committed_setup, "12:00", "13:00")),
    )
    assert isinstance(first, uuid.UUID)
    assert isinstance(second, uuid.UUID)


# --- the demo seed ----------------------------------------------------------------------------

SEED = Path(__file__).resolve().parent.parent / "supabase" / "seed.sql"


def seeded_counts(conn: psycopg.Connection) -> tuple[int, ...]:
    return conn.execute(
        """
        select
            (select count(*) from public.practitioners where workspace_id = w.id),
            (select count(*) from public.availability_rules where workspace_id = w.id),
            (select count(*) from public.availability_overrides where workspace_id = w.id),
            (select count(*) from public.workspace_closures where workspace_id = w.id),
            (select count(*) from public.booking_types where workspace_id = w.id),
            (select count(*) from public.booking_type_practitioners where workspace_id = w.id),
            (select count(*) from public.booking_type_forms where workspace_id = w.id),
            (select count(*) from public.inventory_items where workspace_id = w.id),
            (select count(*) from public.booking_type_inventory_usage where workspace_id = w.id)
        from public.workspaces w where w.slug = 'demo-clinic'
        """
    ).fetchone()


def test_demo_seed_is_an_active_bookable_workspace_and_reloads(conn: psycopg.Connection) -> None:
    conn.execute(SEED.read_text())
    first = seeded_counts(conn)
    conn.execute(SEED.read_text())
    assert seeded_counts(conn) == first == (3, 25, 1, 1, 3, 6, 1, 3, 4)

    page = rpc(conn, Actor.anon(), "get_booking_page", p_workspace_slug="demo-clinic")[0][0]
    performers = {
        t["name"]: sorted(p["display_name"] for p in t["practitioners"]) for t in page["booking_types"]
    }
    assert performers == {
        "Follow-up visit": ["Olivia Owner", "Sam Staff"],
        "Initial consultation": ["Olivia Owner", "Sam Staff", "Tara Therapist"],
        "Sports massage": ["Tara Therapist"],
    }
    near_threshold = conn.execute(
        "select i.name from public.inventory_items i join public.workspaces w on w.id = i.workspace_id"
        " where w.slug = 'demo-clinic' and i.quantity <= i.low_stock_threshold * 1.5"
    ).fetchall()
    assert near_threshold == [("Disposable gloves",)]


# --- columns nobody changes through the API -------------------------------------------------

PROTECTED_COLUMNS = {
    "booking_types": ["id", "workspace_id", "created_at", "updated_at"],
    "practitioners": ["id", "workspace_id", "user_id", "created_at"],
    "booking_type_practitioners": ["workspace_id", "booking_type_id", "practitioner_id", "created_at"],
    "availability_rules": ["id", "workspace_id", "practitioner_id", "created_at"],
    "availability_overrides": ["id", "workspace_id", "practitioner_id", "created_at"],
    "workspace_closures": ["id", "workspace_id", "created_at"],
}


@pytest.mark.parametrize(
    ("table", "column"),
    [(table, column) for table, columns in PROTECTED_COLUMNS.items() for column in columns],
)
def test_owners_cannot_change_protected_columns(conn: psycopg.Connection, table: str, column: str) -> None:
    world = build_world(conn)
    where, params = SPECS[table].target(world, "a")
    query = sql.SQL("update public.{table} set {column} = {column} where ").format(
        table=sql.Identifier(table), column=sql.Identifier(column)
    ) + sql.SQL(where)
    owner = Actor.user(world.users["owner_a"])
    assert attempt(conn, Actor.service(), (query.as_string(conn), params), expect_rows=False), "no target row"
    assert not attempt(conn, owner, (query.as_string(conn), params), expect_rows=False), f"{table}.{column}"
