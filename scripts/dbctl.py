"""Database side of the local stack: compatibility layer, pgmq, migrations, seed, test DB.

    dbctl.py up URL [ADMIN_URL]       prepare + migrate + seed (make dev); with ADMIN_URL, a local
                                      database whose applied migrations changed is rebuilt first
    dbctl.py prepare URL [ADMIN_URL]  compat layer and pgmq where the database is not Supabase
    dbctl.py migrate URL              supabase db push (the real CLI)
    dbctl.py seed URL                 load supabase/seed.sql (local databases only, unless ALLOW_DEMO_SEED=1)
    dbctl.py test-db URL ADMIN_URL    fresh `postgres` database cloned from a migrated template

URL is the project's role (`postgres`, a non-superuser as on hosted Supabase): migrations,
seed and tests run as it. ADMIN_URL is the cluster's superuser (`supabase_admin`), which
plays the platform: it creates databases, roles, extensions and the compat layer. Without
ADMIN_URL, `prepare` uses URL for that (a plain PostgreSQL where URL is a superuser).

Every command is idempotent. The demo seed holds accounts with a known password:
it goes only into a local database (127.0.0.1, localhost, ::1 or a unix socket)
unless ALLOW_DEMO_SEED=1 asks for it explicitly. `seed` refuses otherwise;
`up` applies the migrations and skips the seed with the same explanation.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from pgmq.install import get_embedded_install_sql, get_embedded_sql_version, install_pgmq_sql
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

ROOT = Path(__file__).resolve().parent.parent
SUPABASE_DIR = ROOT / "supabase"
COMPAT_SQL = SUPABASE_DIR / "compat" / "supabase_compat.sql"
# What scripts/provision.sh wraps pgmq into as a local extension (made as on hosted).
PGMQ_EXTENSION_SQL = SUPABASE_DIR / "compat" / "pgmq_extension.sql"
SEED_SQL = SUPABASE_DIR / "seed.sql"
SUPABASE_CLI = ROOT / "node_modules" / ".bin" / "supabase"
TEMPLATE_DB = "careops_template"
# pg_cron lives in exactly one database per cluster (cron.database_name): the
# test database must carry that name, so the template is built under it and renamed.
CRON_DB = "postgres"


def log(message: str) -> None:
    print(f"\033[1;34m==>\033[0m {message}", file=sys.stderr, flush=True)


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


def database_of(url: str) -> str:
    return urlsplit(url).path.lstrip("/") or "postgres"


def cli_url(url: str) -> str:
    """The Supabase CLI speaks TLS by default; local clusters do not need it."""
    if "sslmode=" in url:
        return url
    return url + ("&" if "?" in url else "?") + "sslmode=disable"


def is_supabase(conn: psycopg.Connection) -> bool:
    """A real Supabase database (hosted or `supabase start`): GoTrue has migrated its schema.

    The compat layer never creates auth.schema_migrations; the local clusters' superuser is
    called supabase_admin too, so that role proves nothing.
    """
    return bool(conn.execute("select to_regclass('auth.schema_migrations') is not null").fetchone()[0])


def prepare(url: str, admin_url: str | None = None) -> None:
    admin_url = with_database(admin_url, database_of(url)) if admin_url else url
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if is_supabase(conn):
            log("Supabase database: compatibility layer and pgmq SQL not needed")
            return
        conn.execute(COMPAT_SQL.read_text())
        has_pgmq = conn.execute(
            "select exists (select 1 from pg_namespace where nspname = 'pgmq'),"
            " exists (select 1 from pg_available_extensions where name = 'pgmq')"
        ).fetchone()
        if not any(has_pgmq):
            log(f"installing pgmq {get_embedded_sql_version()} from the SQL the pgmq package embeds")
    if not any(has_pgmq):
        install_pgmq_without_extension(admin_url)


def install_pgmq_without_extension(admin_url: str) -> None:
    """Only where no pgmq extension is available (a plain PostgreSQL that scripts/provision.sh did
    not set up; local clusters have pgmq as an extension made like hosted's): pgmq's SQL owned by
    postgres, schema included, the end state of the foundation migration on hosted."""
    with psycopg.connect(admin_url, autocommit=False) as conn:
        conn.execute("create schema if not exists pgmq authorization postgres")
        conn.execute("set role postgres")
        install_pgmq_sql(get_embedded_install_sql(), conn=conn)
        conn.execute("reset role")
        conn.commit()


def supabase_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SUPABASE_CLI), *args, "--workdir", str(ROOT)],
        check=False,
        capture_output=True,
        text=True,
    )


def pgmq_problem(conn: psycopg.Connection, schema: str = "pgmq") -> str | None:
    """Why `pgmq.create` would fail for the migration role, or None.

    On hosted Supabase a bare `create extension pgmq` runs through supautils as the platform
    admin, which then owns the implicitly created schema; supabase/postgres' pgmq
    after-create script hands the extension's tables, types and functions to postgres but
    not the schema, so `pgmq.create` (creating the queue's tables) is denied.
    """
    row = conn.execute(
        "select pg_get_userbyid(nspowner), has_schema_privilege(current_user, oid, 'create'), current_user"
        " from pg_namespace where nspname = %s",
        [schema],
    ).fetchone()
    if row is None or row[1]:
        return None
    owner, _, user = row
    return (
        f"schema {schema} belongs to {owner} and {user} may not create queues in it. Create the schema"
        f" as {user} before enabling pgmq (docs/deploy.md), or have the platform"
        f" grant {user} CREATE on it."
    )


def check_pgmq(url: str) -> None:
    """Before a push: stop with an explanation where pgmq was enabled before the migrations with a
    schema the migration role cannot create queues in (hosted: enabled from the dashboard, so the
    platform admin made the schema). The foundation migration makes the schema itself otherwise."""
    with psycopg.connect(url, autocommit=True) as conn:
        problem = pgmq_problem(conn)
    if problem:
        sys.exit(problem)


def migrate(url: str) -> None:
    check_pgmq(url)
    result = supabase_cli("db", "push", "--db-url", cli_url(url), "--yes")
    output = (result.stderr + result.stdout).strip()
    if result.returncode != 0:
        sys.exit(f"supabase db push failed:\n{output}")
    log(output.splitlines()[-1] if output else "migrations applied")


LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}
SEED_OPT_IN = "ALLOW_DEMO_SEED"


def is_local_database(url: str) -> bool:
    """Whether every host the connection string may reach is this machine (TCP loopback or a socket).

    libpq tries each host of a list in turn; hostaddr, when given, is where it really connects.
    No host at all means PGHOST or the default unix socket.
    """
    params = conninfo_to_dict(url)
    targets = params.get("hostaddr") or params.get("host") or os.environ.get("PGHOST", "")
    return all(
        not target or target.startswith("/") or target.startswith("@") or target.lower() in LOCAL_HOSTS
        for target in (part.strip() for part in str(targets).split(","))
    )


def demo_seed_refusal(url: str) -> str | None:
    """Why the demo seed must not go into this database, or None when it may."""
    if os.environ.get(SEED_OPT_IN) == "1" or is_local_database(url):
        return None
    host = conninfo_to_dict(url).get("host", "?")
    return (
        f"refusing to load the demo seed into {host}: it is not a local database, and the seed"
        " creates accounts with a known password. Set ALLOW_DEMO_SEED=1 to load it anyway."
    )


def seed(url: str) -> None:
    refusal = demo_seed_refusal(url)
    if refusal:
        sys.exit(refusal)
    if SEED_SQL.exists():
        with psycopg.connect(url, autocommit=False) as conn:
            conn.execute(SEED_SQL.read_text())
        log("seed loaded")


def seed_if_allowed(url: str) -> None:
    refusal = demo_seed_refusal(url)
    if refusal:
        log(f"migrations applied; {refusal}")
        return
    seed(url)


def source_fingerprint() -> str:
    digest = hashlib.sha256(get_embedded_sql_version().encode())
    for path in [COMPAT_SQL, PGMQ_EXTENSION_SQL, *sorted((SUPABASE_DIR / "migrations").glob("*.sql"))]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def template_fingerprint(admin: psycopg.Connection) -> str | None:
    row = admin.execute(
        "select shobj_description(oid, 'pg_database') from pg_database where datname = %s",
        [TEMPLATE_DB],
    ).fetchone()
    return row[0] if row else None


def kick_and(admin: psycopg.Connection, database: str, statement: sql.Composable) -> None:
    """Run a statement that needs `database` free of sessions (pg_cron reconnects within 1 s)."""
    for _ in range(50):
        # A non-superuser (hosted-shaped postgres) may not signal superuser processes;
        # DROP/ALTER DATABASE stops autovacuum workers by itself.
        admin.execute(
            "select pg_terminate_backend(a.pid) from pg_stat_activity as a"
            " where a.datname = %s and a.pid <> pg_backend_pid()"
            " and a.backend_type <> 'autovacuum worker'"
            " and (current_setting('is_superuser') = 'on'"
            "      or not exists (select 1 from pg_roles as r where r.oid = a.usesysid and r.rolsuper))",
            [database],
        )
        try:
            admin.execute(statement)
            return
        except psycopg.errors.ObjectInUse:
            time.sleep(0.1)
    raise RuntimeError(f"could not get {database} free of sessions")


def build_template(url: str, admin_url: str, admin: psycopg.Connection, fingerprint: str) -> None:
    log(f"building the migrated test template ({fingerprint})")
    admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(TEMPLATE_DB)))
    admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(CRON_DB)))
    # As on hosted Supabase, postgres owns its database (and so schema public).
    admin.execute(sql.SQL("create database {} owner postgres").format(sql.Identifier(CRON_DB)))
    prepare(with_database(url, CRON_DB), admin_url)
    migrate(with_database(url, CRON_DB))
    kick_and(
        admin,
        CRON_DB,
        sql.SQL("alter database {} rename to {}").format(
            sql.Identifier(CRON_DB), sql.Identifier(TEMPLATE_DB)
        ),
    )
    admin.execute(
        sql.SQL("comment on database {} is {}").format(sql.Identifier(TEMPLATE_DB), sql.Literal(fingerprint))
    )


def test_db(url: str, admin_url: str) -> None:
    fingerprint = source_fingerprint()
    with psycopg.connect(with_database(admin_url, "template1"), autocommit=True) as admin:
        if template_fingerprint(admin) != fingerprint:
            build_template(url, admin_url, admin, fingerprint)
        admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(CRON_DB)))
        kick_and(
            admin,
            TEMPLATE_DB,
            sql.SQL("create database {} template {} owner postgres").format(
                sql.Identifier(CRON_DB), sql.Identifier(TEMPLATE_DB)
            ),
        )
    log(f"fresh test database: {with_database(url, CRON_DB)}")


def squeezed(text: str) -> str:
    """A migration's text as the CLI's recorded statements and the file both reduce to."""
    return "".join(ch for ch in text if not ch.isspace() and ch != ";")


def changed_migrations(url: str, directory: Path = SUPABASE_DIR / "migrations") -> list[str]:
    """Applied migrations whose file changed or is gone: the CLI records each version's statements
    in supabase_migrations.schema_migrations, and `db push` only ever adds versions."""
    local = {path.name.split("_", 1)[0]: path for path in directory.glob("*.sql")}
    with psycopg.connect(url, autocommit=True) as conn:
        if not conn.execute(
            "select to_regclass('supabase_migrations.schema_migrations') is not null"
        ).fetchone()[0]:
            return []
        applied = conn.execute(
            "select version, name, statements from supabase_migrations.schema_migrations order by version"
        ).fetchall()
    changed = []
    for version, name, statements in applied:
        path = local.get(version)
        if path is None:
            changed.append(f"{version}_{name} (no longer in supabase/migrations)")
        elif squeezed("".join(statements or [])) != squeezed(path.read_text()):
            changed.append(f"{path.name} (its text changed since it was applied)")
    return changed


def rebuild(url: str, admin_url: str, changed: list[str]) -> None:
    """Until the first hosted release definitions are edited in place: a local dev database whose
    applied migrations changed is dropped and built again from the migrations and the seed."""
    database = database_of(url)
    log(
        "applied migrations changed, rebuilding the local dev database with its seed:\n    "
        + "\n    ".join(changed)
    )
    with psycopg.connect(with_database(admin_url, "template1"), autocommit=True) as admin:
        kick_and(admin, database, sql.SQL("drop database if exists {}").format(sql.Identifier(database)))
        admin.execute(sql.SQL("create database {} owner postgres").format(sql.Identifier(database)))


def up(url: str, admin_url: str | None = None) -> None:
    changed = changed_migrations(url)
    if changed and admin_url:
        rebuild(url, admin_url, changed)
    elif changed:
        sys.exit("applied migrations differ from supabase/migrations:\n  " + "\n  ".join(changed))
    prepare(url, admin_url)
    migrate(url)
    seed_if_allowed(url)


def main(argv: list[str]) -> None:
    commands: dict[str, tuple[Callable[..., None], int, int]] = {
        "prepare": (prepare, 1, 2),
        "migrate": (migrate, 1, 1),
        "seed": (seed, 1, 1),
        "up": (up, 1, 2),
        "test-db": (test_db, 2, 2),
    }
    if not argv or argv[0] not in commands:
        sys.exit(__doc__)
    command, least, most = commands[argv[0]]
    urls = [url for url in argv[1:] if url]
    if not least <= len(urls) <= most:
        sys.exit(__doc__)
    command(*urls)


if __name__ == "__main__":
    main(sys.argv[1:])
