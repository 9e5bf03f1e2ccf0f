"""Inventory items and per-booking-type usage: owners manage, staff count stock."""

from __future__ import annotations

import uuid
from decimal import Decimal

import psycopg
import pytest

from tests.support import Actor, create_user, error_of, in_transaction, race_behind_lock, run_as
from tests.test_communication import Shop, new_shop
from tests.test_intake_forms import create_booking_type


def create_item(
    conn: psycopg.Connection, shop: Shop, name: str = "Gloves", quantity: str = "100", threshold: str = "10"
) -> uuid.UUID:
    rows = run_as(
        conn,
        Actor.user(shop.owner),
        "insert into public.inventory_items (workspace_id, name, unit, quantity, low_stock_threshold)"
        " values (%s, %s, 'pairs', %s, %s) returning id",
        [shop.workspace_id, name, quantity, threshold],
    )
    return rows[0][0]


def item_row(conn: psycopg.Connection, item_id: uuid.UUID) -> tuple[object, ...]:
    return conn.execute(
        "select name, unit, quantity, low_stock_threshold, active from public.inventory_items where id = %s",
        [item_id],
    ).fetchone()


def test_owner_manages_items(conn: psycopg.Connection) -> None:
    shop = new_shop(conn)
    owner = Actor.user(shop.owner)
    item_id = create_item(conn, shop, name="  Nitrile gloves ")
    assert item_row(conn, item_id) == ("Nitrile gloves", "pairs", Decimal(100), Decimal(10), True)
    run_as(
        conn,
        owner,
        "update public.inventory_items set name = 'Gloves', unit = 'boxes', quantity = 2.5,"
        " low_stock_threshold = 0, active = false where id = %s",
        [item_id],
    )
    assert item_row(conn, item_id) == ("Gloves", "boxes", Decimal("2.5"), Decimal(0), False)
    assert run_as(conn, owner, "delete from public.inventory_items where id = %s returning 1", [item_id]) == [
        (1,)
    ]


def test_defaults_for_unit_quantity_and_threshold(conn: psycopg.Connection) -> None:
    shop = new_shop(conn)
    item_id = run_as(
        conn,
        Actor.user(shop.owner),
        "insert into public.inventory_items (workspace_id, name) values (%s, 'Towels') returning id",
        [shop.workspace_id],
    )[0][0]
    assert item_row(conn, item_id) == ("Towels", "units", Decimal(0), Decimal(0), True)


def test_staff_count_stock_but_change_nothing_else(conn: psycopg.Connection) -> None:
    shop = new_shop(conn)
    item_id = create_item(conn, shop)
    staff = Actor.user(shop.staff)
    assert run_as(
        conn,
        staff,
        "update public.inventory_items set quantity = 42 where id = %s returning quantity",
        [item_id],
    ) == [(Decimal(42),)]
    for assignment in ("name = 'Mine'", "unit = 'boxes'", "low_stock_threshold = 99", "active = false"):
        error = error_of(
            conn,
            staff,
            f"update public.inventory_items set {assignment}, quantity = 1 where id = %s",
            [item_id],
        )
        assert error is not None
        assert (error.sqlstate, error.diag.message_primary) == ("PT403", "forbidden")
    assert item_row(conn, item_id) == ("Gloves", "pairs", Decimal(42), Decimal(10), True)
    insert = error_of(
        conn,
        staff,
        "insert into public.inventory_items (workspace_id, name) values (%s, 'Mine')",
        [shop.workspace_id],
    )
    assert isinstance(insert, psycopg.errors.InsufficientPrivilege)
    assert (
        run_as(conn, staff, "delete from public.inventory_items where id = %s returning 1", [item_id]) == []
    )


def test_outsiders_neither_see_nor_count_stock(conn: psycopg.Connection) -> None:
    shop = new_shop(conn)
    item_id = create_item(conn, shop)
    outsider = Actor.user(create_user(conn))
    assert run_as(conn, outsider, "select count(*) from public.inventory_items where id = %s", [item_id]) == [
        (0,)
    ]
    assert (
        run_as(
            conn,
            outsider,
            "update public.inventory_items set quantity = 0 where id = %s returning 1",
            [item_id],
        )
        == []
    )


@pytest.mark.parametrize(
    ("table_column", "value", "code"),
    [
        ("quantity", "-1", "invalid_quantity"),
        ("quantity", "1000000001", "invalid_quantity"),
        ("quantity", "NaN", "invalid_quantity"),
        ("quantity", None, "invalid_quantity"),
        ("low_stock_threshold", "-0.5", "invalid_threshold"),
        ("low_stock_threshold", None, "invalid_threshold"),
        ("name", "  ", "invalid_name"),
        ("name", "x" * 121, "invalid_name"),
        ("unit", "", "invalid_unit"),
        ("unit", "x" * 41, "invalid_unit"),
        ("unit", "m\tl", "invalid_unit"),
    ],
)
def test_bad_values_are_refused_with_a_code_and_write_nothing(
    conn: psycopg.Connection, table_column: str, value: str | None, code: str
) -> None:
    shop = new_shop(conn)
    item_id = create_item(conn, shop)
    before = item_row(conn, item_id)
    owner = Actor.user(shop.owner)
    update = error_of(
        conn, owner, f"update public.inventory_items set {table_column} = %s where id = %s", [value, item_id]
    )
    assert update is not None
    assert (update.sqlstate, update.diag.message_primary) == ("PT400", code)
    assert item_row(conn, item_id) == before
    values = {
        "name": "Other",
        "unit": "pairs",
        "quantity": "1",
        "low_stock_threshold": "0",
        table_column: value,
    }
    insert = error_of(
        conn,
        owner,
        "insert into public.inventory_items (workspace_id, name, unit, quantity, low_stock_threshold)"
        " values (%s, %s, %s, %s, %s)",
        [
            shop.workspace_id,
            values["name"],
            values["unit"],
            values["quantity"],
            values["low_stock_threshold"],
        ],
    )
    assert insert is not None
    assert insert.diag.message_primary == code
    count = conn.execute(
        "select count(*) from public.inventory_items where workspace_id = %s", [shop.workspace_id]
    ).fetchone()[0]
    assert count == 1


def test_staff_counting_a_bad_quantity_gets_its_code(conn: psycopg.Connection) -> None:
    shop = new_shop(conn)
    item_id = create_item(conn, shop)
    error = error_of(
        conn,
        Actor.user(shop.staff),
        "update public.inventory_items set quantity = -3 where id = %s",
        [item_id],
    )
    assert error is not None
    assert error.diag.message_primary == "invalid_quantity"


# --- usage per booking type -----------------------------------------------------------------


def add_usage(
    conn: psycopg.Connection,
    actor: Actor,
    shop: Shop,
    booking_type_id: uuid.UUID,
    item_id: uuid.UUID,
    quantity: str,
) -> None:
    run_as(
        conn,
        actor,
        "insert into public.booking_type_inventory_usage"
        " (workspace_id, booking_type_id, item_id, quantity_per_booking)"
        " values (%s, %s, %s, %s)",
        [shop.workspace_id, booking_type_id, item_id, quantity],
    )


def test_owner_records_what_a_booking_uses(conn: psycopg.Connection) -> None:
    shop = new_shop(conn)
    owner = Actor.user(shop.owner)
    booking_type_id, gloves, oil = (
        create_booking_type(conn, shop),
        create_item(conn, shop),
        create_item(conn, shop, "Oil"),
    )
    add_usage(conn, owner, shop, booking_type_id, gloves, "1")
    add_usage(conn, owner, shop, booking_type_id, oil, "0.25")
    run_as(
        conn,
        owner,
        "update public.booking_type_inventory_usage set quantity_per_booking = 2 where item_id = %s",
        [gloves],
    )
    staff = Actor.user(shop.staff)
    assert sorted(
        run_as(
            conn,
            staff,
            "select quantity_per_booking from public.booking_type_inventory_usage where booking_type_id = %s",
            [booking_type_id],
        )
    ) == [(Decimal("0.25"),), (Decimal(2),)]
    # Removing the item removes its usage.
    run_as(conn, owner, "delete from public.inventory_items where id = %s", [oil])
    assert conn.execute(
        "select count(*) from public.booking_type_inventory_usage where booking_type_id = %s",
        [booking_type_id],
    ).fetchone() == (1,)


@pytest.mark.parametrize("quantity", ["0", "-1", "1000001", "NaN"])
def test_usage_quantity_must_be_positive(conn: psycopg.Connection, quantity: str) -> None:
    shop = new_shop(conn)
    booking_type_id, item_id = create_booking_type(conn, shop), create_item(conn, shop)
    error = error_of(
        conn,
        Actor.user(shop.owner),
        "insert into public.booking_type_inventory_usage"
        " (workspace_id, booking_type_id, item_id, quantity_per_booking)"
        " values (%s, %s, %s, %s)",
        [shop.workspace_id, booking_type_id, item_id, quantity],
    )
    assert error is not None
    assert (error.sqlstate, error.diag.message_primary) == ("PT400", "invalid_usage_quantity")
    assert conn.execute(
        "select count(*) from public.booking_type_inventory_usage where item_id = %s", [item_id]
    ).fetchone() == (0,)


def test_staff_cannot_change_usage(conn: psycopg.Connection) -> None:
    shop = new_shop(conn)
    booking_type_id, item_id = create_booking_type(conn, shop), create_item(conn, shop)
    add_usage(conn, Actor.user(shop.owner), shop, booking_type_id, item_id, "1")
    staff = Actor.user(shop.staff)
    assert (
        run_as(
            conn,
            staff,
            "update public.booking_type_inventory_usage set quantity_per_booking = 5"
            " where item_id = %s returning 1",
            [item_id],
        )
        == []
    )
    assert (
        run_as(
            conn,
            staff,
            "delete from public.booking_type_inventory_usage where item_id = %s returning 1",
            [item_id],
        )
        == []
    )


@pytest.mark.parametrize("actor_name", ["owner_of_both", "service_role"])
def test_an_item_of_one_workspace_is_never_used_by_a_type_of_another(
    conn: psycopg.Connection, actor_name: str
) -> None:
    first, second = new_shop(conn), new_shop(conn)
    conn.execute(
        "insert into public.workspace_members (workspace_id, user_id, role) values (%s, %s, 'owner')",
        [second.workspace_id, first.owner.id],
    )
    actor = Actor.service() if actor_name == "service_role" else Actor.user(first.owner)
    item_id, booking_type_id = create_item(conn, first), create_booking_type(conn, second)
    for workspace_id in (first.workspace_id, second.workspace_id):
        error = error_of(
            conn,
            actor,
            "insert into public.booking_type_inventory_usage"
            " (workspace_id, booking_type_id, item_id, quantity_per_booking) values (%s, %s, %s, 1)",
            [workspace_id, booking_type_id, item_id],
        )
        assert isinstance(error, psycopg.errors.ForeignKeyViolation)


def test_an_item_deleted_while_usage_is_added_leaves_no_usage_behind(
    db_url: str, autocommit_conn: psycopg.Connection
) -> None:
    """The usage insert holds a key-share lock on the item; the owner's delete waits, then cascades."""
    shop = new_shop(autocommit_conn)
    owner = Actor.user(shop.owner)
    try:
        booking_type_id, item_id = (
            create_booking_type(autocommit_conn, shop),
            create_item(autocommit_conn, shop),
        )

        def add(conn: psycopg.Connection) -> None:
            add_usage(conn, owner, shop, booking_type_id, item_id, "1")

        def delete(conn: psycopg.Connection) -> int:
            return conn.execute("delete from public.inventory_items where id = %s", [item_id]).rowcount

        first, second = race_behind_lock(db_url, autocommit_conn, (owner, add), (owner, delete))
        assert (first, second) == (None, 1)
        left = autocommit_conn.execute(
            "select count(*) from public.booking_type_inventory_usage where item_id = %s", [item_id]
        ).fetchone()
        assert left == (0,)
        # And the other order: once the item is gone, usage cannot point at it.
        assert in_transaction(db_url, owner, add) == (
            'insert or update on table "booking_type_inventory_usage" violates foreign key constraint'
            ' "booking_type_inventory_usage_item_fkey"'
        )
    finally:
        autocommit_conn.execute("delete from public.workspaces where id = %s", [shop.workspace_id])
        autocommit_conn.execute("delete from auth.users where id = any(%s)", [[shop.owner.id, shop.staff.id]])


def test_stock_changes_reach_realtime_subscribers(conn: psycopg.Connection) -> None:
    published = conn.execute(
        "select count(*) from pg_publication_tables"
        " where pubname = 'supabase_realtime' and schemaname = 'public' and tablename = 'inventory_items'"
    ).fetchone()
    assert published == (1,)


@pytest.mark.parametrize(
    ("table", "column"),
    [
        ("inventory_items", "id"),
        ("inventory_items", "workspace_id"),
        ("inventory_items", "created_at"),
        ("intake_forms", "id"),
        ("intake_forms", "workspace_id"),
        ("booking_type_forms", "form_id"),
        ("booking_type_forms", "booking_type_id"),
        ("booking_type_inventory_usage", "workspace_id"),
        ("booking_type_inventory_usage", "booking_type_id"),
        ("booking_type_inventory_usage", "item_id"),
    ],
)
def test_owners_cannot_change_protected_columns(conn: psycopg.Connection, table: str, column: str) -> None:
    shop = new_shop(conn)
    booking_type_id, item_id = create_booking_type(conn, shop), create_item(conn, shop)
    add_usage(conn, Actor.user(shop.owner), shop, booking_type_id, item_id, "1")
    form_id = conn.execute(
        "insert into public.intake_forms (workspace_id, name, fields)"
        """ values (%s, 'Form', '[{"key": "a", "type": "text", "label": "A"}]') returning id""",
        [shop.workspace_id],
    ).fetchone()[0]
    conn.execute(
        "insert into public.booking_type_forms (workspace_id, booking_type_id, form_id) values (%s, %s, %s)",
        [shop.workspace_id, booking_type_id, form_id],
    )
    error = error_of(
        conn,
        Actor.user(shop.owner),
        f"update public.{table} set {column} = {column} where workspace_id = %s",
        [shop.workspace_id],
    )
    assert isinstance(error, psycopg.errors.InsufficientPrivilege)


def test_service_role_is_not_limited_to_counts(conn: psycopg.Connection) -> None:
    shop = new_shop(conn)
    item_id = create_item(conn, shop)
    renamed = run_as(
        conn,
        Actor.service(),
        "update public.inventory_items set name = 'Latex gloves', low_stock_threshold = 3"
        " where id = %s returning name",
        [item_id],
    )
    assert renamed == [("Latex gloves",)]
