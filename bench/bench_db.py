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
