"""The test role is hosted Supabase's `postgres`: what needs a superuser fails here too.

Migrations, pgTAP and pytest connect as `postgres`, a non-superuser (CREATEDB, CREATEROLE,
BYPASSRLS, member of the API roles) as on hosted Supabase; the cluster's superuser plays
the platform. A migration that relies on superuser powers must fail `make test`, not the
deploy: these tests prove that the role cannot do what a superuser could.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from tests.support import Actor, error_of

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from dbctl import cli_url, pgmq_problem, with_database  # noqa: E402

SUPERUSER_ONLY = {
    "replica mode (triggers and FKs off)": "set local session_replication_role = replica",
    "an extension the platform did not create": "create extension file_fdw",
    "making oneself a superuser": "alter role postgres superuser",
    "a function in GoTrue's schema": "create function auth.probe() returns int language sql as 'select 1'",
    "running a server program": "copy (select 1) to program 'true'",
    "an event trigger": (
        "create event trigger probe on ddl_command_end execute function private.touch_updated_at()"
    ),
}


@pytest.mark.parametrize("statement", SUPERUSER_ONLY.values(), ids=SUPERUSER_ONLY.keys())
def test_superuser_statements_are_denied_to_the_migration_role(
    conn: psycopg.Connection, statement: str
) -> None:
    conn.execute("select 1")  # inside the fixture's transaction: a savepoint, rolled back at the end
    with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
        conn.execute(statement)


def test_alter_system_is_denied_to_the_migration_role(autocommit_conn: psycopg.Connection) -> None:
    # ALTER SYSTEM refuses to run in a transaction block, so this one commits if allowed.
    try:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            autocommit_conn.execute("alter system set log_min_duration_statement = 12345")
    finally:
        if autocommit_conn.execute("select rolsuper from pg_roles where rolname = current_user").fetchone()[
            0
        ]:
            autocommit_conn.execute("alter system reset log_min_duration_statement")


@pytest.fixture
def scratch_database(db_url: str, autocommit_conn: psycopg.Connection) -> Iterator[str]:
    """An empty database created by the test role itself (postgres has CREATEDB)."""
    name = f"careops_probe_{uuid.uuid4().hex[:8]}"
    autocommit_conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    try:
        yield with_database(db_url, name)
    finally:
        autocommit_conn.execute(sql.SQL("drop database {} with (force)").format(sql.Identifier(name)))


def test_a_migration_needing_a_superuser_fails_db_push(scratch_database: str, tmp_path: Path) -> None:
    """What `make test` does with every migration (supabase db push as postgres), on one
    migration that creates an extension nobody created beforehand."""
    (tmp_path / "supabase" / "migrations").mkdir(parents=True)
    shutil.copy(ROOT / "supabase" / "config.toml", tmp_path / "supabase" / "config.toml")
    (tmp_path / "supabase" / "migrations" / "20990101000000_needs_superuser.sql").write_text(
        "create extension if not exists file_fdw;\n"
    )
    result = subprocess.run(
        [
            str(ROOT / "node_modules/.bin/supabase"),
            "db",
            "push",
            "--db-url",
            cli_url(scratch_database),
            "--workdir",
            str(tmp_path),
            "--yes",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert 'permission denied to create extension "file_fdw"' in output


def test_pgmq_belongs_to_postgres_as_on_hosted(conn: psycopg.Connection) -> None:
    """supabase/postgres ansible/files/postgresql_extension_custom_scripts/pgmq/after-create.sql
    hands every pgmq object to postgres and grants nothing to the API roles; the schema is
    postgres' because it is created as postgres before pgmq is enabled (README)."""
    owners = conn.execute(
        "select distinct pg_get_userbyid(owner) from ("
        " select nspowner as owner from pg_namespace where nspname = 'pgmq'"
        " union all select relowner from pg_class where relnamespace = 'pgmq'::regnamespace"
        " union all select proowner from pg_proc where pronamespace = 'pgmq'::regnamespace"
        ") as objects"
    ).fetchall()
    assert owners == [("postgres",)]
    for role in ("anon", "authenticated", "service_role"):
        assert not conn.execute("select has_schema_privilege(%s, 'pgmq', 'usage')", [role]).fetchone()[0]
    assert error_of(conn, Actor.service(), "select pgmq.send('jobs', '{}'::jsonb)") is not None
    assert pgmq_problem(conn) is None


def test_pgmq_problem_names_a_schema_the_migration_role_cannot_create_in(conn: psycopg.Connection) -> None:
    """The hosted failure (schema pgmq owned by the platform admin) is reported before db push."""
    admin = f"careops_probe_admin_{uuid.uuid4().hex[:8]}"
    conn.execute(sql.SQL("create role {} nologin").format(sql.Identifier(admin)))
    conn.execute(sql.SQL("grant {} to postgres").format(sql.Identifier(admin)))
    conn.execute(sql.SQL("create schema pgmq_probe authorization {}").format(sql.Identifier(admin)))
    conn.execute(sql.SQL("revoke {} from postgres").format(sql.Identifier(admin)))
    problem = pgmq_problem(conn, "pgmq_probe")
    assert problem is not None
    assert problem.startswith(f"schema pgmq_probe belongs to {admin} and postgres may not create")
    with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
        conn.execute("create table pgmq_probe.q_jobs (id int)")
