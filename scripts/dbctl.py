"""Database side of the local stack: compatibility layer, pgmq, migrations, seed, test DB.

    dbctl.py up URL            prepare + migrate + seed (make dev)
    dbctl.py prepare URL       compat layer and pgmq where the database is not Supabase
    dbctl.py migrate URL       supabase db push (the real CLI)
    dbctl.py seed URL          load supabase/seed.sql (local databases only, unless ALLOW_DEMO_SEED=1)
    dbctl.py test-db ADMIN_URL fresh `postgres` database cloned from a migrated template

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
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from pgmq.install import get_embedded_install_sql, get_embedded_sql_version, install_pgmq_sql
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

ROOT = Path(__file__).resolve().parent.parent
SUPABASE_DIR = ROOT / "supabase"
COMPAT_SQL = SUPABASE_DIR / "compat" / "supabase_compat.sql"
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


def cli_url(url: str) -> str:
    """The Supabase CLI speaks TLS by default; local clusters do not need it."""
    if "sslmode=" in url:
        return url
    return url + ("&" if "?" in url else "?") + "sslmode=disable"


def is_supabase(conn: psycopg.Connection) -> bool:
    return bool(
        conn.execute("select exists (select 1 from pg_roles where rolname = 'supabase_admin')").fetchone()[0]
    )


def prepare(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
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
        with psycopg.connect(url, autocommit=False) as conn:
            install_pgmq_sql(get_embedded_install_sql(), conn=conn)


def supabase_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SUPABASE_CLI), *args, "--workdir", str(ROOT)],
        check=False,
        capture_output=True,
        text=True,
    )


def migrate(url: str) -> None:
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
    for path in [COMPAT_SQL, *sorted((SUPABASE_DIR / "migrations").glob("*.sql"))]:
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
        admin.execute(
            "select pg_terminate_backend(pid) from pg_stat_activity"
            " where datname = %s and pid <> pg_backend_pid()",
            [database],
        )
        try:
            admin.execute(statement)
            return
        except psycopg.errors.ObjectInUse:
            time.sleep(0.1)
    raise RuntimeError(f"could not get {database} free of sessions")


def build_template(admin_url: str, admin: psycopg.Connection, fingerprint: str) -> None:
    log(f"building the migrated test template ({fingerprint})")
    admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(TEMPLATE_DB)))
    admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(CRON_DB)))
    admin.execute(sql.SQL("create database {}").format(sql.Identifier(CRON_DB)))
    target = with_database(admin_url, CRON_DB)
    prepare(target)
    migrate(target)
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


def test_db(admin_url: str) -> None:
    fingerprint = source_fingerprint()
    with psycopg.connect(with_database(admin_url, "template1"), autocommit=True) as admin:
        if template_fingerprint(admin) != fingerprint:
            build_template(admin_url, admin, fingerprint)
        admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(CRON_DB)))
        kick_and(
            admin,
            TEMPLATE_DB,
            sql.SQL("create database {} template {}").format(
                sql.Identifier(CRON_DB), sql.Identifier(TEMPLATE_DB)
            ),
        )
    log(f"fresh test database: {with_database(admin_url, CRON_DB)}")


def main(argv: list[str]) -> None:
    commands = {
        "prepare": [prepare],
        "migrate": [migrate],
        "seed": [seed],
        "up": [prepare, migrate, seed_if_allowed],
        "test-db": [test_db],
    }
    if len(argv) != 2 or argv[0] not in commands:
        sys.exit(__doc__)
    for step in commands[argv[0]]:
        step(argv[1])


if __name__ == "__main__":
    main(sys.argv[1:])
