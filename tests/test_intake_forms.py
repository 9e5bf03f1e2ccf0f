"""Intake forms and their attachment to booking types, written by owners through PostgREST."""

from __future__ import annotations

import json
import uuid
from typing import Any

import psycopg
import pytest

from tests.support import Actor, create_user, error_of, run_as
from tests.test_communication import Shop, new_shop

NOTE_FIELD = {"key": "note", "type": "text", "label": "Note"}


def create_form(
    conn: psycopg.Connection, shop: Shop, fields: Any, name: str = "Intake", description: str | None = None
) -> uuid.UUID:
    rows = run_as(
        conn,
        Actor.user(shop.owner),
        "insert into public.intake_forms (workspace_id, name, description, fields)"
        " values (%s, %s, %s, %s) returning id",
        [shop.workspace_id, name, description, json.dumps(fields)],
    )
    return rows[0][0]


def create_booking_type(conn: psycopg.Connection, shop: Shop, name: str = "Haircut") -> uuid.UUID:
    rows = run_as(
        conn,
        Actor.user(shop.owner),
        "insert into public.booking_types (workspace_id, name, duration_minutes)"
        " values (%s, %s, 30) returning id",
        [shop.workspace_id, name],
    )
    return rows[0][0]


def forms_count(conn: psycopg.Connection, shop: Shop) -> int:
    return conn.execute(
        "select count(*) from public.intake_forms where workspace_id = %s", [shop.workspace_id]
    ).fetchone()[0]


def test_owner_creates_a_form_and_the_schema_is_normalised(conn: psycopg.Connection) -> None:
    shop = new_shop(conn)
    form_id = create_form(
        conn,
        shop,
        [
            {"label": "  Date of birth ", "key": "date_of_birth", "type": "date", "required": True},
            {"key": "allergies", "type": "long_text", "label": "Allergies"},
            {"key": "hair_type", "type": "choice", "label": "Hair type", "options": [" Straight", "Curly "]},
            {"key": "consent", "type": "checkbox", "label": "I agree", "required": True},
            {"key": "email", "type": "email", "label": "Email"},
            {"key": "mobile_2", "type": "phone", "label": "Mobile"},
        ],
        name="  New client ",
        description="  Line one\r\nLine two  ",
    )
    name, description, fields, active = conn.execute(
        "select name, description, fields, active from public.intake_forms where id = %s", [form_id]
    ).fetchone()
    assert (name, description, active) == ("New client", "Line one\nLine two", True)
    assert fields == [
        {"key": "date_of_birth", "type": "date", "label": "Date of birth", "required": True},
        {"key": "allergies", "type": "long_text", "label": "Allergies", "required": False},
        {
            "key": "hair_type",
            "type": "choice",
            "label": "Hair type",
            "required": False,
            "options": ["Straight", "Curly"],
        },
        {"key": "consent", "type": "checkbox", "label": "I agree", "required": True},
        {"key": "email", "type": "email", "label": "Email", "required": False},
        {"key": "mobile_2", "type": "phone", "label": "Mobile", "required": False},
    ]


BAD_FIELDS: list[tuple[Any, str]] = [
    ({"key": "note"}, "invalid_form_fields"),
    ([], "invalid_form_fields"),
    ([NOTE_FIELD] * 101, "invalid_form_fields"),
    (["note"], "invalid_form_fields"),
    ([{**NOTE_FIELD, "placeholder": "x"}], "unknown_field_property"),
    ([{"type": "text", "label": "No key"}], "invalid_field_key"),
    ([{**NOTE_FIELD, "key": "Note"}], "invalid_field_key"),
    ([{**NOTE_FIELD, "key": "first-name"}], "invalid_field_key"),
    ([{**NOTE_FIELD, "key": "first__name"}], "invalid_field_key"),
    ([{**NOTE_FIELD, "key": "_name"}], "invalid_field_key"),
    ([{**NOTE_FIELD, "key": "1st"}], "invalid_field_key"),
    ([{**NOTE_FIELD, "key": "a" * 64}], "invalid_field_key"),
    ([{**NOTE_FIELD, "key": 7}], "invalid_field_key"),
    ([NOTE_FIELD, {**NOTE_FIELD, "label": "Other"}], "duplicate_field_key"),
    ([{**NOTE_FIELD, "type": "signature"}], "unknown_field_type"),
    ([{"key": "note", "label": "Note"}], "unknown_field_type"),
    ([{"key": "note", "type": "text"}], "invalid_field_label"),
    ([{**NOTE_FIELD, "label": "   "}], "invalid_field_label"),
    ([{**NOTE_FIELD, "label": "Line\nbreak"}], "invalid_field_label"),
    ([{**NOTE_FIELD, "label": "x" * 201}], "invalid_field_label"),
    ([{**NOTE_FIELD, "label": 3}], "invalid_field_label"),
    ([{**NOTE_FIELD, "required": "yes"}], "invalid_field_required"),
    ([{**NOTE_FIELD, "required": None}], "invalid_field_required"),
    ([{**NOTE_FIELD, "type": "choice"}], "missing_field_options"),
    ([{**NOTE_FIELD, "type": "choice", "options": []}], "missing_field_options"),
    ([{**NOTE_FIELD, "type": "choice", "options": "a, b"}], "missing_field_options"),
    ([{**NOTE_FIELD, "type": "choice", "options": ["a"] * 101}], "missing_field_options"),
    ([{**NOTE_FIELD, "type": "choice", "options": ["a", 2]}], "invalid_field_option"),
    ([{**NOTE_FIELD, "type": "choice", "options": ["a", " "]}], "invalid_field_option"),
    ([{**NOTE_FIELD, "type": "choice", "options": ["Yes", " Yes "]}], "duplicate_field_option"),
    ([{**NOTE_FIELD, "options": ["a"]}], "unexpected_field_options"),
]


@pytest.mark.parametrize(("fields", "code"), BAD_FIELDS)
def test_a_bad_field_schema_is_refused_with_its_code_and_writes_nothing(
    conn: psycopg.Connection, fields: Any, code: str
) -> None:
    shop = new_shop(conn)
    error = error_of(
        conn,
        Actor.user(shop.owner),
        "insert into public.intake_forms (workspace_id, name, fields) values (%s, 'Intake', %s)",
        [shop.workspace_id, json.dumps(fields)],
    )
    assert error is not None
    assert (error.sqlstate, error.diag.message_primary) == ("PT400", code)
    assert forms_count(conn, shop) == 0


@pytest.mark.parametrize(("fields", "code"), BAD_FIELDS[:8])
def test_a_bad_field_schema_is_refused_on_update_too(
    conn: psycopg.Connection, fields: Any, code: str
) -> None:
    shop = new_shop(conn)
    form_id = create_form(conn, shop, [NOTE_FIELD])
    error = error_of(
        conn,
        Actor.user(shop.owner),
        "update public.intake_forms set fields = %s where id = %s",
        [json.dumps(fields), form_id],
    )
    assert error is not None
    assert error.diag.message_primary == code
    stored = conn.execute("select fields from public.intake_forms where id = %s", [form_id]).fetchone()[0]
    assert stored == [{**NOTE_FIELD, "required": False}]


@pytest.mark.parametrize(
    ("name", "description", "code"),
    [
        ("   ", None, "invalid_name"),
        ("x" * 121, None, "invalid_name"),
        ("Tab\there", None, "invalid_name"),
        ("Intake", "x" * 2001, "invalid_description"),
        ("Intake", "Bell\u0007", "invalid_description"),
    ],
)
def test_bad_names_and_descriptions_are_refused(
    conn: psycopg.Connection, name: str, description: str | None, code: str
) -> None:
    shop = new_shop(conn)
    error = error_of(
        conn,
        Actor.user(shop.owner),
        "insert into public.intake_forms (workspace_id, name, description, fields) values (%s, %s, %s, %s)",
        [shop.workspace_id, name, description, json.dumps([NOTE_FIELD])],
    )
    assert error is not None
    assert error.diag.message_primary == code
    assert forms_count(conn, shop) == 0


def test_a_blank_description_is_no_description(conn: psycopg.Connection) -> None:
    shop = new_shop(conn)
    form_id = create_form(conn, shop, [NOTE_FIELD], description="   ")
    assert conn.execute(
        "select description from public.intake_forms where id = %s", [form_id]
    ).fetchone() == (None,)


def test_staff_read_forms_but_cannot_write_them(conn: psycopg.Connection) -> None:
    shop = new_shop(conn)
    form_id = create_form(conn, shop, [NOTE_FIELD])
    staff = Actor.user(shop.staff)
    assert run_as(conn, staff, "select count(*) from public.intake_forms where id = %s", [form_id]) == [(1,)]
    insert = error_of(
        conn,
        staff,
        "insert into public.intake_forms (workspace_id, name, fields) values (%s, 'Mine', %s)",
        [shop.workspace_id, json.dumps([NOTE_FIELD])],
    )
    assert isinstance(insert, psycopg.errors.InsufficientPrivilege)
    assert (
        run_as(
            conn, staff, "update public.intake_forms set active = false where id = %s returning 1", [form_id]
        )
        == []
    )
    assert run_as(conn, staff, "delete from public.intake_forms where id = %s returning 1", [form_id]) == []
    outsider = Actor.user(create_user(conn))
    assert run_as(conn, outsider, "select count(*) from public.intake_forms where id = %s", [form_id]) == [
        (0,)
    ]


def test_owners_cannot_move_a_form_to_another_workspace(conn: psycopg.Connection) -> None:
    shop = new_shop(conn)
    form_id = create_form(conn, shop, [NOTE_FIELD])
    error = error_of(
        conn,
        Actor.user(shop.owner),
        "update public.intake_forms set workspace_id = workspace_id where id = %s",
        [form_id],
    )
    assert isinstance(error, psycopg.errors.InsufficientPrivilege)


# --- attached to booking types ------------------------------------------------------------------


def test_owner_attaches_forms_to_booking_types_many_to_many(conn: psycopg.Connection) -> None:
    shop = new_shop(conn)
    owner = Actor.user(shop.owner)
    forms = [create_form(conn, shop, [NOTE_FIELD], name=f"Form {n}") for n in range(2)]
    types = [create_booking_type(conn, shop, f"Type {n}") for n in range(2)]
    for booking_type_id in types:
        for form_id in forms:
            run_as(
                conn,
                owner,
                "insert into public.booking_type_forms (workspace_id, booking_type_id, form_id)"
                " values (%s, %s, %s)",
                [shop.workspace_id, booking_type_id, form_id],
            )
    staff = Actor.user(shop.staff)
    assert run_as(
        conn,
        staff,
        "select count(*) from public.booking_type_forms where workspace_id = %s",
        [shop.workspace_id],
    ) == [(4,)]
    # Deleting a form or a type detaches it.
    run_as(conn, owner, "delete from public.intake_forms where id = %s", [forms[0]])
    run_as(conn, owner, "delete from public.booking_types where id = %s", [types[0]])
    assert conn.execute(
        "select booking_type_id, form_id from public.booking_type_forms where workspace_id = %s",
        [shop.workspace_id],
    ).fetchall() == [(types[1], forms[1])]


def test_staff_cannot_attach_forms(conn: psycopg.Connection) -> None:
    shop = new_shop(conn)
    form_id, booking_type_id = create_form(conn, shop, [NOTE_FIELD]), create_booking_type(conn, shop)
    error = error_of(
        conn,
        Actor.user(shop.staff),
        "insert into public.booking_type_forms (workspace_id, booking_type_id, form_id) values (%s, %s, %s)",
        [shop.workspace_id, booking_type_id, form_id],
    )
    assert isinstance(error, psycopg.errors.InsufficientPrivilege)


@pytest.mark.parametrize("actor_name", ["owner_of_both", "service_role"])
def test_a_form_of_one_workspace_never_attaches_to_a_type_of_another(
    conn: psycopg.Connection, actor_name: str
) -> None:
    first, second = new_shop(conn), new_shop(conn)
    # The same person owns both workspaces: RLS alone would let each row in.
    conn.execute(
        "insert into public.workspace_members (workspace_id, user_id, role) values (%s, %s, 'owner')",
        [second.workspace_id, first.owner.id],
    )
    actor = Actor.service() if actor_name == "service_role" else Actor.user(first.owner)
    form_id, booking_type_id = create_form(conn, first, [NOTE_FIELD]), create_booking_type(conn, second)
    for workspace_id in (first.workspace_id, second.workspace_id):
        error = error_of(
            conn,
            actor,
            "insert into public.booking_type_forms (workspace_id, booking_type_id, form_id)"
            " values (%s, %s, %s)",
            [workspace_id, booking_type_id, form_id],
        )
        assert isinstance(error, psycopg.errors.ForeignKeyViolation)
    assert conn.execute(
        "select count(*) from public.booking_type_forms where form_id = %s", [form_id]
    ).fetchone() == (0,)
