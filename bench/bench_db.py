"""A benchmark's own database: a clone of the migrated template, dropped afterwards."""

from __future__ import annotations

import sys
from pathlib import Path

import psycopg
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

from dbctl import TEMPLATE_DB, kick_and, with_database


def recreate_database(admin_url: str, name: str) -> str:
    """(Re)create database `name` as a clone of `careops_template`; returns its URL."""
    with psycopg.connect(with_database(admin_url, "template1"), autocommit=True) as admin:
        exists = admin.execute(
            "select count(*) from pg_database where datname = %s", [TEMPLATE_DB]
        ).fetchone()
        if not exists or not exists[0]:
            sys.exit(f"no {TEMPLATE_DB} database on this cluster: run `make test-db` first")
        drop(admin, name)
        kick_and(
            admin,
            TEMPLATE_DB,
            sql.SQL("create database {} template {}").format(
                sql.Identifier(name), sql.Identifier(TEMPLATE_DB)
            ),
        )
    return with_database(admin_url, name)


def drop_database(admin_url: str, name: str) -> None:
    with psycopg.connect(with_database(admin_url, "template1"), autocommit=True) as admin:
        drop(admin, name)


def drop(admin: psycopg.Connection, name: str) -> None:
    admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


def seed_history(
    conn: psycopg.Connection, workspace_id: object, booking_type_id: object, per_practitioner: int
) -> int:
    """Past, completed bookings for every practitioner of the workspace (one contact), ending
    two days ago: a workspace in use rather than empty tables. Plans are made from the
    statistics a `vacuum (analyze)` then takes (plpgsql keeps generic plans for a session),
    so measuring on empty tables would measure plans made for empty tables. Returns the count."""
    row = conn.execute(
        """
        with contact as (
            insert into public.contacts (workspace_id, name, email)
            values (%(ws)s, 'Past customer', 'past-' || gen_random_uuid() || '@bench.test')
            returning id
        ),
        written as (
            insert into public.bookings
                (workspace_id, booking_type_id, practitioner_id, contact_id, starts_at, ends_at, status)
            select p.workspace_id, %(bt)s, p.id, c.id, s.at, s.at + interval '30 minutes', 'completed'
            from public.practitioners as p
            cross join contact as c
            cross join lateral generate_series(
                date_trunc('hour', now()) - interval '2 days' - (%(n)s - 1) * interval '30 minutes',
                date_trunc('hour', now()) - interval '2 days',
                interval '30 minutes'
            ) as s (at)
            where p.workspace_id = %(ws)s
            returning 1
        )
        select count(*) from written
        """,
        {"ws": workspace_id, "bt": booking_type_id, "n": per_practitioner},
    ).fetchone()
    return row[0] if row else 0
