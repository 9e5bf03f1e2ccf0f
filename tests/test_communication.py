"""Communication settings and message templates, written by owners through PostgREST under RLS."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass

import psycopg
import pytest

from tests.support import Actor, User, create_user, error_of, race_behind_lock, rpc, run_as

CUSTOMER_KINDS = [
    "welcome",
    "booking_confirmation",
    "booking_cancelled",
    "booking_rescheduled",
    "reminder",
    "form_request",
]
STAFF_KINDS = ["form_overdue", "low_stock", "staff_invitation"]


@dataclass
class Shop:
    workspace_id: uuid.UUID
    owner: User
    staff: User


def new_shop(conn: psycopg.Connection) -> Shop:
    """A workspace made as the frontend makes it (create_workspace), with one staff member."""
    owner, staff = create_user(conn), create_user(conn)
    workspace_id = rpc(
        conn,
        Actor.user(owner),
        "create_workspace",
        p_name="Corner Salon",
        p_slug=f"comm-{secrets.token_hex(5)}",
        p_timezone="Europe/Paris",
    )[0][0]
    conn.execute(
        "insert into public.workspace_members (workspace_id, user_id, role) values (%s, %s, 'staff')",
        [workspace_id, staff.id],
    )
    return Shop(workspace_id, owner, staff)


def settings_of(conn: psycopg.Connection, workspace_id: uuid.UUID) -> tuple[object, ...]:
    return conn.execute(
        "select email_enabled, sms_enabled, sender_name, sender_email, reply_to_email, sms_from_number"
        " from public.communication_settings where workspace_id = %s",
        [workspace_id],
    ).fetchone()


def template_of(
    conn: psycopg.Connection, workspace_id: uuid.UUID, kind: str, channel: str
) -> tuple[str, str]:
    return conn.execute(
        "select subject, body from public.message_templates"
        " where workspace_id = %s and kind = %s and channel = %s",
        [workspace_id, kind, channel],
    ).fetchone()


# --- defaults ---------------------------------------------------------------------------------


def test_a_new_workspace_gets_settings_and_default_templates(conn: psycopg.Connection) -> None:
    shop = new_shop(conn)
    assert settings_of(conn, shop.workspace_id) == (True, False, None, None, None, None)
    templates = conn.execute(
        "select kind, channel, subject is not null from public.message_templates where workspace_id = %s",
        [shop.workspace_id],
    ).fetchall()
    expected = {(kind, "email", True) for kind in CUSTOMER_KINDS + STAFF_KINDS} | {
        (kind, "sms", False) for kind in CUSTOMER_KINDS
    }
    assert set(templates) == expected
    assert len(templates) == len(expected)


def test_staff_read_the_configuration_as_postgrest_would(conn: psycopg.Connection) -> None:
    shop = new_shop(conn)
    staff = Actor.user(shop.staff)
    assert run_as(
        conn,
        staff,
        "select count(*) from public.communication_settings where workspace_id = %s",
        [shop.workspace_id],
    ) == [(1,)]
    assert run_as(
        conn,
        staff,
        "select count(*) from public.message_templates where workspace_id = %s",
        [shop.workspace_id],
    ) == [(15,)]


def test_default_templates_only_use_their_kinds_placeholders(conn: psycopg.Connection) -> None:
    rows = conn.execute(
        "select d.kind, m[1] from private.default_message_templates() d,"
        " regexp_matches(coalesce(d.subject, '') || d.body, '\\{\\{([a-z_]+)\\}\\}', 'g') m"
        " where not m[1] = any(private.template_placeholders(d.kind))"
    ).fetchall()
    assert rows == []


def test_defaults_are_created_once_and_restored_when_missing(conn: psycopg.Connection) -> None:
    shop = new_shop(conn)
    run_as(
        conn,
        Actor.user(shop.owner),
        "update public.message_templates set body = 'Hi {{contact_name}}'"
        " where workspace_id = %s and kind = 'welcome' and channel = 'sms'",
        [shop.workspace_id],
    )
    conn.execute(
        "delete from public.message_templates"
        " where workspace_id = %s and kind = 'reminder' and channel = 'sms'",
        [shop.workspace_id],
    )
    conn.execute("select private.create_communication_defaults(%s)", [shop.workspace_id])
    conn.execute("select private.create_communication_defaults(%s)", [shop.workspace_id])
    count = conn.execute(
        "select count(*) from public.message_templates where workspace_id = %s", [shop.workspace_id]
    ).fetchone()[0]
    assert count == 15
    assert template_of(conn, shop.workspace_id, "welcome", "sms") == (None, "Hi {{contact_name}}")


def test_template_placeholders_cover_every_kind(conn: psycopg.Connection) -> None:
    for kind in CUSTOMER_KINDS + STAFF_KINDS:
        placeholders = conn.execute("select private.template_placeholders(%s)", [kind]).fetchone()[0]
        assert "workspace_name" in placeholders, kind
    assert conn.execute("select private.template_placeholders('birthday')").fetchone()[0] is None
    assert (
        "manage_url"
        not in conn.execute("select private.template_placeholders('booking_cancelled')").fetchone()[0]
    )


# --- settings ---------------------------------------------------------------------------------


def test_owner_sets_up_communication_and_values_are_normalised(conn: psycopg.Connection) -> None:
    shop = new_shop(conn)
    touched = run_as(
        conn,
        Actor.user(shop.owner),
        "update public.communication_settings set sender_name = '  Corner Salon  ',"
        " sender_email = ' Hello@Corner.TEST ',"
        " reply_to_email = '', sms_enabled = true, sms_from_number = '+33 6 12-34.56 78'"
        " where workspace_id = %s returning workspace_id",
        [shop.workspace_id],
    )
    assert touched == [(shop.workspace_id,)]
    assert settings_of(conn, shop.workspace_id) == (
        True,
        True,
        "Corner Salon",
        "hello@corner.test",
        None,
        "+33612345678",
    )


@pytest.mark.parametrize(
    ("assignment", "code"),
    [
        ("sender_email = 'not-an-email'", "invalid_email"),
        ("reply_to_email = 'a@b'", "invalid_email"),
        ("sms_from_number = '06 12 34 56 78'", "invalid_phone"),
        ("sms_from_number = '+0612345678'", "invalid_phone"),
        ("sms_from_number = '+1 415 CALL NOW'", "invalid_phone"),
        ("sender_name = 'Tab\tSalon'", "invalid_sender_name"),
        ("sender_name = repeat('x', 121)", "invalid_sender_name"),
    ],
)
def test_bad_settings_are_refused_with_a_code_and_change_nothing(
    conn: psycopg.Connection, assignment: str, code: str
) -> None:
    shop = new_shop(conn)
    before = settings_of(conn, shop.workspace_id)
    error = error_of(
        conn,
        Actor.user(shop.owner),
        f"update public.communication_settings set {assignment} where workspace_id = %s",
        [shop.workspace_id],
    )
    assert error is not None
    assert error.diag.message_primary == code
    assert error.sqlstate == "PT400"
    assert settings_of(conn, shop.workspace_id) == before


def test_staff_and_outsiders_cannot_change_settings(conn: psycopg.Connection) -> None:
    shop = new_shop(conn)
    outsider = create_user(conn)
    for user in (shop.staff, outsider):
        touched = run_as(
            conn,
            Actor.user(user),
            "update public.communication_settings set sms_enabled = true where workspace_id = %s returning 1",
            [shop.workspace_id],
        )
        assert touched == []
    assert settings_of(conn, shop.workspace_id)[1] is False


@pytest.mark.parametrize(
    ("table", "column"),
    [
        ("communication_settings", "workspace_id"),
        ("communication_settings", "created_at"),
        ("message_templates", "workspace_id"),
        ("message_templates", "kind"),
        ("message_templates", "channel"),
        ("message_templates", "id"),
    ],
)
def test_owners_cannot_change_protected_columns(conn: psycopg.Connection, table: str, column: str) -> None:
    shop = new_shop(conn)
    error = error_of(
        conn,
        Actor.user(shop.owner),
        f"update public.{table} set {column} = {column} where workspace_id = %s",
        [shop.workspace_id],
    )
    assert isinstance(error, psycopg.errors.InsufficientPrivilege)


def test_owners_cannot_add_or_remove_settings_or_templates(conn: psycopg.Connection) -> None:
    shop = new_shop(conn)
    owner = Actor.user(shop.owner)
    for statement in (
        "delete from public.communication_settings where workspace_id = %s",
        "delete from public.message_templates where workspace_id = %s",
        "insert into public.message_templates (workspace_id, kind, channel, body)"
        " values (%s, 'low_stock', 'sms', 'x')",
    ):
        assert isinstance(
            error_of(conn, owner, statement, [shop.workspace_id]), psycopg.errors.InsufficientPrivilege
        )


# --- templates --------------------------------------------------------------------------------


def test_owner_edits_a_template_with_known_placeholders(conn: psycopg.Connection) -> None:
    shop = new_shop(conn)
    run_as(
        conn,
        Actor.user(shop.owner),
        "update public.message_templates set subject = '  See you {{ starts_at_local }} ',"
        " body = E'Hi {{contact_name}},\\r\\n\\r\\nsee you at {{location}}.\\n' where workspace_id = %s"
        " and kind = 'reminder' and channel = 'email'",
        [shop.workspace_id],
    )
    assert template_of(conn, shop.workspace_id, "reminder", "email") == (
        "See you {{ starts_at_local }}",
        "Hi {{contact_name}},\n\nsee you at {{location}}.",
    )


@pytest.mark.parametrize(
    ("kind", "channel", "assignment", "code"),
    [
        ("welcome", "email", "body = 'Hello {{starts_at_local}}'", "unknown_placeholder"),
        ("welcome", "email", "subject = 'Hi {{first_name}}'", "unknown_placeholder"),
        ("booking_cancelled", "sms", "body = 'Rebook: {{manage_url}}'", "unknown_placeholder"),
        ("low_stock", "email", "body = 'Low: {{contact_name}}'", "unknown_placeholder"),
        ("reminder", "sms", "body = 'See you {{starts_at_local}'", "malformed_placeholder"),
        ("reminder", "sms", "body = 'See you {{Starts At}}'", "malformed_placeholder"),
        ("reminder", "sms", "body = 'See you }} soon'", "malformed_placeholder"),
        ("reminder", "sms", "subject = 'A subject'", "invalid_template_subject"),
        ("reminder", "email", "subject = '   '", "invalid_template_subject"),
        ("reminder", "email", "subject = null", "invalid_template_subject"),
        ("reminder", "email", "subject = E'Two\\nlines'", "invalid_template_subject"),
        ("reminder", "email", "body = ''", "invalid_template_body"),
        ("reminder", "email", "body = E'Bell\\u0007'", "invalid_template_body"),
        ("reminder", "email", "body = repeat('x', 10001)", "invalid_template_body"),
        ("reminder", "sms", "body = repeat('x', 1601)", "invalid_template_body"),
    ],
)
def test_bad_templates_are_refused_with_a_code_and_change_nothing(
    conn: psycopg.Connection, kind: str, channel: str, assignment: str, code: str
) -> None:
    shop = new_shop(conn)
    before = template_of(conn, shop.workspace_id, kind, channel)
    error = error_of(
        conn,
        Actor.user(shop.owner),
        f"update public.message_templates set {assignment}"
        " where workspace_id = %s and kind = %s and channel = %s",
        [shop.workspace_id, kind, channel],
    )
    assert error is not None
    assert error.diag.message_primary == code
    assert error.sqlstate == "PT400"
    assert template_of(conn, shop.workspace_id, kind, channel) == before


def test_sms_body_may_use_its_full_length(conn: psycopg.Connection) -> None:
    shop = new_shop(conn)
    run_as(
        conn,
        Actor.user(shop.owner),
        "update public.message_templates set body = repeat('x', 1600)"
        " where workspace_id = %s and channel = 'sms'",
        [shop.workspace_id],
    )
    assert len(template_of(conn, shop.workspace_id, "reminder", "sms")[1]) == 1600


def test_staff_cannot_edit_templates(conn: psycopg.Connection) -> None:
    shop = new_shop(conn)
    touched = run_as(
        conn,
        Actor.user(shop.staff),
        "update public.message_templates set body = 'x' where workspace_id = %s returning 1",
        [shop.workspace_id],
    )
    assert touched == []


# --- phones -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("+33 6 12 34 56 78", "+33612345678"),
        ("+1 (415) 555-0100", "+14155550100"),
        ("0044 20 7946 0958", "+442079460958"),
        ("+49/30/1234567", "+49301234567"),
        ("  +6831234  ", "+6831234"),
        ("+123456789012345", "+123456789012345"),
        ("0612345678", None),
        ("+0612345678", None),
        ("+123456", None),
        ("+1234567890123456", None),
        ("+33 6 12 34 56 78 ext 5", None),
        ("++33612345678", None),
        ("", None),
        (None, None),
    ],
)
def test_normalize_phone_accepts_international_numbers_only(
    conn: psycopg.Connection, raw: str | None, normalised: str | None
) -> None:
    assert conn.execute("select private.normalize_phone(%s)", [raw]).fetchone()[0] == normalised


def test_restoring_defaults_twice_at_once_duplicates_nothing(
    db_url: str, autocommit_conn: psycopg.Connection
) -> None:
    """Two restorations race on the unique (workspace_id, kind, channel) index; the second waits, skips."""
    shop = new_shop(autocommit_conn)
    try:
        autocommit_conn.execute(
            "delete from public.message_templates where workspace_id = %s and kind = 'reminder'",
            [shop.workspace_id],
        )

        def restore(conn: psycopg.Connection) -> None:
            conn.execute("select private.create_communication_defaults(%s)", [shop.workspace_id])

        service = Actor.service()
        assert race_behind_lock(db_url, autocommit_conn, (service, restore), (service, restore)) == (
            None,
            None,
        )
        counts = autocommit_conn.execute(
            "select count(*), count(*) filter (where kind = 'reminder') from public.message_templates"
            " where workspace_id = %s",
            [shop.workspace_id],
        ).fetchone()
        assert counts == (15, 2)
    finally:
        autocommit_conn.execute("delete from public.workspaces where id = %s", [shop.workspace_id])
        autocommit_conn.execute("delete from auth.users where id = any(%s)", [[shop.owner.id, shop.staff.id]])
