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

from dbctl import check_pgmq, cli_url, pgmq_problem, with_database  # noqa: E402

SUPERUSER_ONLY = {
    "replica mode as an API role": (
        "set local role authenticated; set local session_replication_role = replica"
    ),
    "track_io_timing as service_role": "set local role service_role; set local track_io_timing = on",
    "an extension the platform did not create": "create extension file_fdw",
    "making oneself a superuser": "alter role postgres superuser",
    "a function in GoTrue's schema": "create function auth.probe() returns int language sql as 'select 1'",
    "running a server program": "copy (select 1) to program 'true'",
}

# Hosted's supautils lets postgres set these superuser-only settings
# (supautils.privileged_role_allowed_configs in supabase/postgres
# ansible/files/postgresql_config/supautils.conf.j2); the compat layer grants SET on them to postgres.
SUPAUTILS_ALLOWED = {
    "replica mode (triggers and FKs off)": "set local session_replication_role = replica",
    "track_io_timing": "set local track_io_timing = on",
}


@pytest.mark.parametrize("statement", SUPERUSER_ONLY.values(), ids=SUPERUSER_ONLY.keys())
def test_superuser_statements_are_denied_to_the_migration_role(
    conn: psycopg.Connection, statement: str
) -> None:
    conn.execute("select 1")  # inside the fixture's transaction: a savepoint, rolled back at the end
    with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
        conn.execute(statement)


@pytest.mark.parametrize("statement", SUPAUTILS_ALLOWED.values(), ids=SUPAUTILS_ALLOWED.keys())
def test_what_supautils_allows_postgres_is_allowed_here(conn: psycopg.Connection, statement: str) -> None:
    conn.execute(statement)  # inside the fixture's transaction, rolled back at the end


def test_event_triggers_are_denied_here_though_supautils_allows_them(conn: psycopg.Connection) -> None:
    """Stricter here than on hosted, knowingly: supautils 2.9+ lets postgres create event triggers
    (run for everyone but superusers); PostgreSQL 15 has no grant that gives a non-superuser
    that. No migration may rely on one, so a migration that does fails here first."""
    conn.execute("select 1")
    with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
        conn.execute(
            "create event trigger probe on ddl_command_end execute function private.touch_updated_at()"
        )


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


def push(database_url: str, tmp_path: Path, migrations: dict[str, str]) -> str:
    """`supabase db push` with the pinned CLI, as `make test` migrates, of these migrations
    (file name -> SQL) onto `database_url`; returns its output, raises if it failed."""
    (tmp_path / "supabase" / "migrations").mkdir(parents=True)
    shutil.copy(ROOT / "supabase" / "config.toml", tmp_path / "supabase" / "config.toml")
    for name, text in migrations.items():
        (tmp_path / "supabase" / "migrations" / name).write_text(text)
    result = subprocess.run(
        [
            str(ROOT / "node_modules/.bin/supabase"),
            "db",
            "push",
            "--db-url",
            cli_url(database_url),
            "--workdir",
            str(tmp_path),
            "--yes",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    output = result.stdout + result.stderr
    if result.returncode != 0:
        raise PushError(output)
    return output


class PushError(Exception):
    pass


def test_a_migration_needing_a_superuser_fails_db_push(scratch_database: str, tmp_path: Path) -> None:
    """What `make test` does with every migration (supabase db push as postgres), on one
    migration that creates an extension nobody created beforehand."""
    with pytest.raises(PushError, match='permission denied to create extension "file_fdw"'):
        push(
            scratch_database,
            tmp_path,
            {"20990101000000_needs_superuser.sql": "create extension if not exists file_fdw;\n"},
        )


def foundation_pgmq_block() -> str:
    """The statements of the foundation migration that enable pgmq, as they are in the file."""
    text = (ROOT / "supabase" / "migrations" / "20261201000000_foundation.sql").read_text()
    start = text.index("do $pgmq$")
    return text[start : text.index("$pgmq$;", start + len("do $pgmq$")) + len("$pgmq$;")] + "\n"


QUEUE_PROBE = "select pgmq.create('jobs');\nselect pgmq.send('jobs', '{}'::jsonb);\n"


def test_the_foundation_enables_pgmq_as_hosted_does_and_can_create_queues(
    scratch_database: str, tmp_path: Path
) -> None:
    """pgmq is a local extension made as hosted makes it (its script runs as the admin, who would
    own a schema it creates; postgres gets every object but the schema): the foundation's block,
    pushed with the real CLI onto a database without pgmq, makes the schema first, so queues work."""
    push(scratch_database, tmp_path, {"20990101000000_pgmq.sql": foundation_pgmq_block() + QUEUE_PROBE})
    with psycopg.connect(scratch_database) as conn:
        assert conn.execute(
            "select pg_get_userbyid(nspowner) from pg_namespace where nspname = 'pgmq'"
        ).fetchone() == ("postgres",)
        assert conn.execute(
            "select extowner::regrole::text, extnamespace::regnamespace::text from pg_extension"
            " where extname = 'pgmq'"
        ).fetchone() == ("postgres", "pgmq")
        assert conn.execute("select count(*) from pgmq.q_jobs").fetchone() == (1,)


def test_enabling_pgmq_without_the_schema_first_stops_the_push_as_on_hosted(
    scratch_database: str, tmp_path: Path
) -> None:
    """The failure the issue reproduced on a fresh hosted project, reproduced here: a bare
    `create extension pgmq` leaves the schema to the admin and pgmq.create is denied."""
    with pytest.raises(PushError, match="permission denied for schema pgmq"):
        push(
            scratch_database,
            tmp_path,
            {"20990101000000_pgmq.sql": "create extension if not exists pgmq;\n" + QUEUE_PROBE},
        )


def test_pgmq_enabled_before_the_push_is_reported_before_it(scratch_database: str) -> None:
    """Enabled from the dashboard before the first push (as postgres, through supautils), the schema
    is the admin's: `make migrate` stops before `db push` and says what to do."""
    with psycopg.connect(scratch_database, autocommit=True) as conn:
        conn.execute("create extension pgmq")
    with pytest.raises(SystemExit, match="schema pgmq belongs to supabase_admin"):
        check_pgmq(scratch_database)


def test_pgmq_belongs_to_postgres_as_on_hosted(conn: psycopg.Connection) -> None:
    """supabase/postgres ansible/files/postgresql_extension_custom_scripts/pgmq/after-create.sql
    hands every pgmq object to postgres and grants nothing to the API roles; the schema is
    postgres' because the foundation migration creates it before it enables pgmq."""
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
