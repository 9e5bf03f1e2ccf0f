"""The local stack itself: Supabase claims, pgmq, pg_cron, privileges, migrations."""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from pathlib import Path

import psycopg
import pytest

from tests.conftest import FAILING_CRON_PROBE_JOB
from tests.support import Actor, User, acting_as, error_of, mint_jwt, run_as

ROOT = Path(__file__).resolve().parent.parent


def claims_functions(conn: psycopg.Connection) -> tuple:
    return conn.execute("select auth.uid(), auth.role(), auth.email(), auth.jwt()").fetchone()


def test_auth_helpers_are_null_without_claims(conn: psycopg.Connection) -> None:
    assert claims_functions(conn) == (None, None, None, None)


def test_auth_helpers_follow_request_jwt_claims(conn: psycopg.Connection, user: User) -> None:
    with acting_as(conn, Actor.user(user)):
        uid, role, email, claims = claims_functions(conn)
        current_role = conn.execute("select current_user").fetchone()[0]
    assert (uid, role, email) == (user.id, "authenticated", user.email)
    assert claims["sub"] == str(user.id)
    assert claims["aud"] == "authenticated"
    assert current_role == "authenticated"
    # Leaving the request restores the connection's own identity.
    assert claims_functions(conn) == (None, None, None, None)


def test_legacy_per_claim_setting_wins_over_claims_json(conn: psycopg.Connection) -> None:
    legacy, modern = uuid.uuid4(), uuid.uuid4()
    conn.execute("select set_config('request.jwt.claim.sub', %s, true)", [str(legacy)])
    conn.execute("select set_config('request.jwt.claims', %s, true)", [json.dumps({"sub": str(modern)})])
    assert conn.execute("select auth.uid()").fetchone()[0] == legacy


def test_empty_claims_read_as_null(conn: psycopg.Connection) -> None:
    conn.execute("select set_config('request.jwt.claims', '', true)")
    assert claims_functions(conn) == (None, None, None, None)


def test_minted_jwt_carries_the_claims_postgrest_would_set(user: User) -> None:
    import jwt

    token = mint_jwt(user.claims())
    decoded = jwt.decode(
        token,
        "super-secret-jwt-token-with-at-least-32-characters-long",
        algorithms=["HS256"],
        audience="authenticated",
    )
    assert decoded["sub"] == str(user.id)
    assert decoded["role"] == "authenticated"


def test_roles_are_shaped_like_supabase(conn: psycopg.Connection) -> None:
    """The roles as hosted Supabase has them today (supabase/postgres, migrations/db/):
    init-scripts/00000000000000-initial-schema.sql creates the API roles and authenticator;
    migrations/20230529180330_alter_api_roles_for_inherit.sql makes the API roles INHERIT;
    migrations/10000000000000_demote-postgres.sql makes postgres
    NOSUPERUSER CREATEDB CREATEROLE LOGIN REPLICATION BYPASSRLS;
    migrations/20230201083204_grant_auth_roles_to_postgres.sql makes it a member of the API roles.
    """
    roles = dict(
        conn.execute(
            "select rolname, array[rolinherit, rolbypassrls, rolcanlogin, rolsuper] from pg_roles"
            " where rolname in ('anon', 'authenticated', 'service_role', 'authenticator')"
        ).fetchall()
    )
    assert roles["anon"] == [True, False, False, False]
    assert roles["authenticated"] == [True, False, False, False]
    assert roles["service_role"] == [True, True, False, False]
    assert roles["authenticator"] == [False, False, True, False]
    postgres = conn.execute(
        "select rolsuper, rolcreaterole, rolcreatedb, rolbypassrls, rolcanlogin, rolreplication"
        " from pg_roles where rolname = 'postgres'"
    ).fetchone()
    assert postgres == (False, True, True, True, True, True)
    direct_members = conn.execute(
        "select r.rolname from pg_auth_members m"
        " join pg_roles r on r.oid = m.roleid join pg_roles u on u.oid = m.member"
        " where r.rolname in ('anon', 'authenticated', 'service_role') and u.rolname = %s order by 1",
        ["postgres"],
    ).fetchall()
    assert direct_members == [("anon",), ("authenticated",), ("service_role",)]
    switchable = conn.execute(
        "select pg_has_role('authenticator', r, 'member') from"
        " unnest(array['anon', 'authenticated', 'service_role']) r"
    ).fetchall()
    assert all(row[0] for row in switchable)


def test_the_suite_runs_as_the_hosted_postgres_role(conn: psycopg.Connection) -> None:
    """Migrations, pgTAP and pytest run as postgres, never as a superuser."""
    user, superuser = conn.execute(
        "select current_user, (select rolsuper from pg_roles where rolname = session_user)"
    ).fetchone()
    assert (user, superuser) == ("postgres", False)
    owners = conn.execute(
        "select distinct pg_get_userbyid(relowner) from pg_class"
        " where relnamespace in ('public'::regnamespace, 'private'::regnamespace)"
    ).fetchall()
    assert owners == [("postgres",)]


def test_auth_users_is_shaped_like_gotrue(conn: psycopg.Connection) -> None:
    """supabase/auth migrations/: 20240612123726_enable_rls_update_grants.up.sql turns RLS on
    and grants postgres SELECT with grant option; nothing is granted to the API roles. The
    columns are those GoTrue's migrations leave (00_init_auth_schema .. add_is_anonymous_column).
    """
    rls, owner = conn.execute(
        "select relrowsecurity, pg_get_userbyid(relowner) from pg_class where oid = 'auth.users'::regclass"
    ).fetchone()
    assert (rls, owner) == (True, "supabase_auth_admin")
    for role in ("anon", "authenticated", "service_role"):
        granted = conn.execute(
            "select count(*) from information_schema.role_table_grants"
            " where table_schema = 'auth' and table_name = 'users' and grantee = %s",
            [role],
        ).fetchone()[0]
        assert granted == 0, role
    columns = {
        row[0]
        for row in conn.execute(
            "select column_name from information_schema.columns"
            " where table_schema = 'auth' and table_name = 'users'"
        )
    }
    gotrue_columns = {
        "instance_id", "id", "aud", "role", "email", "encrypted_password", "email_confirmed_at",
        "invited_at", "confirmation_token", "confirmation_sent_at", "recovery_token", "recovery_sent_at",
        "email_change_token_new", "email_change", "email_change_sent_at", "last_sign_in_at",
        "raw_app_meta_data", "raw_user_meta_data", "is_super_admin", "created_at", "updated_at", "phone",
        "phone_confirmed_at", "phone_change", "phone_change_token", "phone_change_sent_at", "confirmed_at",
        "email_change_token_current", "email_change_confirm_status", "banned_until",
        "reauthentication_token", "reauthentication_sent_at", "is_sso_user", "deleted_at", "is_anonymous",
    }  # fmt: skip
    assert columns == gotrue_columns
    assert error_of(conn, Actor.service(), "select count(*) from auth.users") is not None


def test_extensions_schema_has_no_default_grants_for_api_roles(conn: psycopg.Connection) -> None:
    """supabase/postgres grants the API roles USAGE on schema extensions only
    (initial-schema.sql); default privileges there are for postgres
    (20230224042246_grant_extensions_perms_for_postgres.sql)."""
    grantees = {
        row[0]
        for row in conn.execute(
            "select (aclexplode(defaclacl)).grantee::regrole::text from pg_default_acl"
            " where defaclnamespace = 'extensions'::regnamespace"
        )
    }
    assert grantees == {"postgres"}
    usage = conn.execute(
        "select bool_and(has_schema_privilege(r, 'extensions', 'usage'))"
        " from unnest(array['anon', 'authenticated', 'service_role']) r"
    ).fetchone()[0]
    assert usage


def test_pgmq_send_read_archive(conn: psycopg.Connection) -> None:
    queue = f"stack_{uuid.uuid4().hex[:8]}"
    conn.execute("select pgmq.create(%s)", [queue])
    msg_id = conn.execute(
        "select pgmq.send(%s, %s::jsonb)", [queue, json.dumps({"hello": "world"})]
    ).fetchone()[0]
    read = conn.execute("select msg_id, message from pgmq.read(%s, 30, 10)", [queue]).fetchall()
    assert read == [(msg_id, {"hello": "world"})]
    # Invisible while its visibility timeout runs.
    assert conn.execute("select count(*) from pgmq.read(%s, 30, 10)", [queue]).fetchone()[0] == 0
    assert conn.execute("select pgmq.archive(%s, %s)", [queue, msg_id]).fetchone()[0] is True
    archived = conn.execute(f"select msg_id from pgmq.a_{queue}").fetchall()
    assert archived == [(msg_id,)]


def test_jobs_queue_exists(conn: psycopg.Connection) -> None:
    assert conn.execute("select count(*) from pgmq.meta where queue_name = 'jobs'").fetchone()[0] == 1


def test_anon_cannot_read_any_public_table(conn: psycopg.Connection) -> None:
    tables = [
        row[0]
        for row in conn.execute(
            "select format('%I.%I', schemaname, tablename) from pg_tables where schemaname = 'public'"
        ).fetchall()
    ]
    # A table created the way a migration would proves the default privileges hold too.
    conn.execute("create table public.stack_probe_default_privileges (id int)")
    tables.append("public.stack_probe_default_privileges")
    for table in tables:
        error = error_of(conn, Actor.anon(), f"select * from {table} limit 1")
        assert isinstance(error, psycopg.errors.InsufficientPrivilege), table


def test_new_functions_are_not_executable_by_default(conn: psycopg.Connection) -> None:
    conn.execute("create function public.stack_probe_fn() returns int language sql as 'select 1'")
    conn.execute("create function private.stack_probe_fn() returns int language sql as 'select 1'")
    for role in ("anon", "authenticated", "public"):
        for fn in ("public.stack_probe_fn()", "private.stack_probe_fn()"):
            granted = conn.execute(
                "select has_function_privilege(%s, %s, 'execute')",
                ["authenticated" if role == "public" else role, fn],
            ).fetchone()[0]
            assert not granted, (role, fn)
    assert isinstance(
        error_of(conn, Actor.anon(), "select public.stack_probe_fn()"),
        psycopg.errors.InsufficientPrivilege,
    )


def test_private_schema_is_not_usable_by_anon(conn: psycopg.Connection) -> None:
    assert not conn.execute("select has_schema_privilege('anon', 'private', 'usage')").fetchone()[0]
    assert run_as(conn, Actor.service(), "select 1") == [(1,)]


def test_migrations_reapply_as_a_no_op(db_url: str, conn: psycopg.Connection) -> None:
    def fingerprint() -> tuple:
        return conn.execute(
            "select (select count(*) from pg_class), (select count(*) from pg_proc),"
            " (select count(*) from pg_policy),"
            " (select count(*) from supabase_migrations.schema_migrations)"
        ).fetchone()

    before = fingerprint()
    conn.rollback()
    result = subprocess.run(
        [
            str(ROOT / "node_modules/.bin/supabase"),
            "db",
            "push",
            "--db-url",
            db_url + ("&" if "?" in db_url else "?") + "sslmode=disable",
            "--workdir",
            str(ROOT),
            "--yes",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Remote database is up to date" in output
    assert fingerprint() == before
    applied = {row[0] for row in conn.execute("select version from supabase_migrations.schema_migrations")}
    local = {path.name.split("_", 1)[0] for path in (ROOT / "supabase/migrations").glob("*.sql")}
    assert applied == local


@pytest.mark.slow
def test_pg_cron_runs_a_scheduled_job(autocommit_conn: psycopg.Connection, cron_probe: str) -> None:
    """The session scheduled a job at its start; pg_cron must run it within ~a minute."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        ticks = autocommit_conn.execute("select count(*) from stack_probe.cron_ticks").fetchone()[0]
        if ticks:
            break
        time.sleep(1)
    status = autocommit_conn.execute(
        "select d.status from cron.job_run_details d join cron.job j using (jobid)"
        " where j.jobname = %s order by d.start_time desc limit 1",
        [cron_probe],
    ).fetchone()
    assert ticks >= 1
    assert status == ("succeeded",)


@pytest.mark.slow
def test_a_failing_cron_run_shows_in_the_metrics(autocommit_conn: psycopg.Connection) -> None:
    """The session scheduled a job that always fails (conftest): once pg_cron has run it,
    private.metrics_snapshot() counts the failure (what CareOpsCronJobFailing alerts on)."""

    def sample(family: str) -> float | None:
        families = run_as(autocommit_conn, Actor.service(), "select private.metrics_snapshot()")[0][0]
        return next(
            (
                float(s["value"])
                for f in families
                if f["name"] == family
                for s in f["samples"]
                if s["labels"].get("job") == FAILING_CRON_PROBE_JOB
            ),
            None,
        )

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and not sample("careops_cron_job_failed_runs_last_hour"):
        time.sleep(1)
    assert (sample("careops_cron_job_failed_runs_last_hour") or 0) >= 1
    assert sample("careops_cron_job_last_run_success") == 0


def test_seed_loads_and_reloads(conn: psycopg.Connection) -> None:
    seed = (ROOT / "supabase/seed.sql").read_text()
    conn.execute(seed)
    conn.execute(seed)
    members = conn.execute(
        "select p.full_name, m.role from public.workspace_members m"
        " join public.workspaces w on w.id = m.workspace_id"
        " join public.profiles p on p.id = m.user_id"
        " where w.slug = 'demo-clinic' order by m.role, p.full_name"
    ).fetchall()
    assert members == [("Olivia Owner", "owner"), ("Sam Staff", "staff"), ("Tara Therapist", "staff")]
    # The demo's sender identities are verified (once, however often the seed runs): its mail
    # goes from its own domain and inbound reaches it.
    identities = conn.execute(
        "select i.kind, i.value, i.status from public.sender_identities i"
        " join public.workspaces w on w.id = i.workspace_id where w.slug = 'demo-clinic' order by i.kind"
    ).fetchall()
    assert identities == [
        ("email_address", "hello@demo.careops.test", "verified"),
        ("email_domain", "demo.careops.test", "verified"),
        ("sms_number", "+15005550006", "verified"),
    ]
    senders = conn.execute(
        "select s.* from public.workspaces w, private.workspace_senders(w.id) s where w.slug = 'demo-clinic'"
    ).fetchone()
    assert senders == ("hello@demo.careops.test", "hello@demo.careops.test", None)
    practitioners = conn.execute(
        "select pr.email, p.id::text from public.practitioners p join public.profiles pr on pr.id = p.user_id"
        " where p.workspace_id = 'd0000000-0000-4000-8000-0000000000a1' order by p.id"
    ).fetchall()
    # Known ids, so fixtures and the demo can name every practitioner, the owner included.
    assert practitioners == [
        ("owner@demo.careops.test", "d0000000-0000-4000-8000-0000000000b1"),
        ("staff@demo.careops.test", "d0000000-0000-4000-8000-0000000000b2"),
        ("therapist@demo.careops.test", "d0000000-0000-4000-8000-0000000000b3"),
    ]
