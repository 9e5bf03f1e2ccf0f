"""Booking throughput with and without the automation side effects, next to pgbench.

    .venv/bin/python bench/booking_side_effects.py [ADMIN_URL] [--clients 16] [--seconds 20] [--keep]

ADMIN_URL is a superuser URL of the test cluster (default: $TEST_DATABASE_URL). The
benchmark clones the migrated template `careops_template` into `careops_bench_booking`,
makes one active workspace per client (its owner as the practitioner, open day and night,
a booking type with an intake form attached, SMS on, 1,000 past bookings) and measures,
one after the other, for `--seconds` each with `--clients` concurrent clients:

    pgbench          the built-in tpcb-like script (pgbench -M prepared) on its own database
    without effects  book_appointment as anon, the automation triggers disabled
    with effects     book_appointment as anon, every side effect on: a new contact's welcome,
                     the confirmation, the form submission and its request, the conversation,
                     email and SMS each, with their deliver_message jobs (6 messages, 6 jobs)
    bare inserts     the floor: a function that only writes what a booking must (upsert the
                     contact by email, insert the booking with every constraint and trigger
                     but the automation ones), no validation, through the same wrapper

The booking runs are pgbench too (a custom script, -M prepared, same clients and duration),
so both sides of the ratio pay the same client costs. Each client books free slots of its own
workspace (a new email and phone each time) as the booking page does: begin; set local role
anon; request.jwt.claims; book_appointment; commit. It prints bookings per second and the
ratios to pgbench's tps (issue target: >= 0.75 with effects). It exits 1 only when a sanity
check fails (a client aborted on an error, missing messages or jobs).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from bench_db import seed_history  # noqa: E402
from dbctl import TEMPLATE_DB, kick_and, with_database  # noqa: E402

from tests.booking_support import create_booking_workspace  # noqa: E402

BENCH_DB = "careops_bench_booking"
PGBENCH_DB = "careops_bench_pgbench"
TARGET_RATIO = 0.75
HISTORY_PER_WORKSPACE = 1000  # past bookings each workspace starts with
DELIVERY_JOBS = "select count(*) from pgmq.q_jobs where message ->> 'kind' = 'deliver_message'"
AUTOMATION_TRIGGERS = {
    "public.contacts": ["contacts_queue_welcome_message"],
    "public.bookings": ["bookings_announce_new_booking"],
}


def log(message: str) -> None:
    print(f"==> {message}", flush=True)


def pgbench_binary() -> str:
    found = shutil.which("pgbench") or "/usr/lib/postgresql/15/bin/pgbench"
    if not Path(found).exists():
        sys.exit("pgbench not found (postgresql-client / postgresql-15)")
    return found


def run_pgbench(admin_url: str, clients: int, seconds: int) -> float:
    url = urlparse(with_database(admin_url, PGBENCH_DB))
    env = {**os.environ, "PGPASSWORD": url.password or ""}
    base = [
        pgbench_binary(),
        "-h",
        url.hostname or "127.0.0.1",
        "-p",
        str(url.port or 5432),
        "-U",
        url.username,
    ]
    subprocess.run(  # noqa: S603 (our own pgbench, arguments we built)
        [*base, "-i", "-q", "-s", str(clients), PGBENCH_DB], check=True, env=env, capture_output=True
    )
    result = subprocess.run(  # noqa: S603 (our own pgbench, arguments we built)
        [
            *base,
            "-M",
            "prepared",
            "-c",
            str(clients),
            "-j",
            str(min(clients, 4)),
            "-T",
            str(seconds),
            PGBENCH_DB,
        ],
        check=True,
        env=env,
        capture_output=True,
        text=True,
    )
    match = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", result.stdout)
    if not match:
        sys.exit(f"could not read pgbench's tps:\n{result.stdout}")
    return float(match.group(1))


BOOKING_SCRIPT = """\\set n random(1, 1000000000)
begin;
set local role anon;
select set_config('request.jwt.claims', '{"role": "anon"}', true);
select booking_id from public.book_appointment(
    p_workspace_slug => (select t.slug from public.bench_targets t where t.client_id = :client_id),
    p_booking_type_id => (select t.booking_type from public.bench_targets t where t.client_id = :client_id),
    p_starts_at => to_timestamp(:base) + nextval('public.bench_slots') * interval '30 minutes',
    p_name => 'Pat Customer',
    p_email => 'pat-' || :n || '@example.test',
    p_phone => '+3361' || lpad((:n % 10000000)::text, 7, '0')
);
commit;
"""


BARE_SCRIPT = """\\set n random(1, 1000000000)
begin;
set local role anon;
select set_config('request.jwt.claims', '{"role": "anon"}', true);
select public.bench_bare_booking(
    :client_id,
    to_timestamp(:base) + nextval('public.bench_slots') * interval '30 minutes',
    'pat-' || :n || '@example.test',
    '+3361' || lpad((:n % 10000000)::text, 7, '0')
);
commit;
"""

# The least a booking must write, for the floor figure: no workspace, type, slot or text
# validation, no practitioner choice, no token; the contact upsert and the booking insert
# with every constraint (the exclusion constraint included) and the non-automation triggers.
BARE_FUNCTION = """
create function public.bench_bare_booking(
    p_client integer, p_starts_at timestamptz, p_email text, p_phone text
)
returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_target record;
    v_contact_id uuid;
    v_booking_id uuid;
begin
    select w.id as workspace_id, t.booking_type, p.id as practitioner_id into v_target
    from public.bench_targets as t
    join public.workspaces as w on w.slug = t.slug
    join public.practitioners as p on p.workspace_id = w.id
    where t.client_id = p_client;
    insert into public.contacts (workspace_id, name, email, phone)
    values (v_target.workspace_id, 'Pat Customer', p_email, p_phone)
    on conflict on constraint contacts_workspace_id_email_key do update set name = excluded.name
    returning id into v_contact_id;
    insert into public.bookings (
        workspace_id, booking_type_id, practitioner_id, contact_id, starts_at, ends_at
    )
    values (
        v_target.workspace_id, v_target.booking_type, v_target.practitioner_id, v_contact_id,
        p_starts_at, p_starts_at + interval '30 minutes'
    )
    returning id into v_booking_id;
    return v_booking_id;
end
$$;
grant execute on function public.bench_bare_booking(integer, timestamptz, text, text) to anon;
"""


def run_booking_pgbench(
    admin_url: str, clients: int, seconds: int, base: datetime, script_text: str = BOOKING_SCRIPT
) -> tuple[float, str]:
    url = urlparse(with_database(admin_url, BENCH_DB))
    env = {**os.environ, "PGPASSWORD": url.password or ""}
    with tempfile.NamedTemporaryFile("w", suffix=".sql") as script:
        script.write(script_text)
        script.flush()
        result = subprocess.run(  # noqa: S603 (our own pgbench, arguments we built)
            [
                pgbench_binary(),
                *(
                    "-h",
                    url.hostname or "127.0.0.1",
                    "-p",
                    str(url.port or 5432),
                    "-U",
                    url.username or "postgres",
                ),
                *("-n", "-M", "prepared", "-c", str(clients), "-j", str(min(clients, 4)), "-T", str(seconds)),
                *("-D", f"base={int(base.timestamp())}", "-f", script.name, BENCH_DB),
            ],
            check=False,
            env=env,
            capture_output=True,
            text=True,
        )
    output = result.stdout + result.stderr
    match = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", output)
    if not match:
        sys.exit(f"could not read pgbench's tps:\n{output}")
    return float(match.group(1)), output


def set_triggers(conn: psycopg.Connection, enabled: bool) -> None:
    for table, triggers in AUTOMATION_TRIGGERS.items():
        for trigger in triggers:
            conn.execute(
                sql.SQL("alter table {} {} trigger {}").format(
                    sql.SQL(table), sql.SQL("enable" if enabled else "disable"), sql.Identifier(trigger)
                )
            )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("admin_url", nargs="?", default=os.environ.get("TEST_DATABASE_URL"))
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    if not args.admin_url:
        parser.error("give ADMIN_URL or set TEST_DATABASE_URL")

    drops = [
        sql.SQL("drop database if exists {}").format(sql.Identifier(name)) for name in (BENCH_DB, PGBENCH_DB)
    ]
    with psycopg.connect(with_database(args.admin_url, "template1"), autocommit=True) as admin:
        for name, drop in zip((BENCH_DB, PGBENCH_DB), drops, strict=True):
            kick_and(admin, name, drop)
        kick_and(
            admin,
            TEMPLATE_DB,
            sql.SQL("create database {} template {}").format(
                sql.Identifier(BENCH_DB), sql.Identifier(TEMPLATE_DB)
            ),
        )
        admin.execute(sql.SQL("create database {}").format(sql.Identifier(PGBENCH_DB)))
    url = with_database(args.admin_url, BENCH_DB)
    failed = False
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            places = []
            for _ in range(args.clients):
                place = create_booking_workspace(conn)
                form_id = conn.execute(
                    "insert into public.intake_forms (workspace_id, name, fields) values (%s, 'Health', %s)"
                    " returning id",
                    [place.workspace_id, '[{"key": "allergies", "type": "text", "label": "Allergies"}]'],
                ).fetchone()[0]
                conn.execute(
                    "insert into public.booking_type_forms (workspace_id, booking_type_id, form_id)"
                    " values (%s, %s, %s)",
                    [place.workspace_id, place.booking_type_id, form_id],
                )
                conn.execute(
                    "update public.communication_settings set sms_enabled = true,"
                    " sms_from_number = '+33612345678' where workspace_id = %s",
                    [place.workspace_id],
                )
                seed_history(conn, place.workspace_id, place.booking_type_id, HISTORY_PER_WORKSPACE)
                places.append(place)
            conn.execute(
                "create table public.bench_targets"
                " (client_id integer primary key, slug text, booking_type uuid)"
            )
            conn.cursor().executemany(
                "insert into public.bench_targets values (%s, %s, %s)",
                [(n, place.slug, place.booking_type_id) for n, place in enumerate(places)],
            )
            conn.execute("update public.booking_types set max_days_ahead = 730")
            conn.execute("create sequence public.bench_slots")
            conn.execute("grant select on public.bench_targets to anon")
            conn.execute("grant usage on sequence public.bench_slots to anon")
            conn.execute(BARE_FUNCTION)
            conn.execute("vacuum (analyze)")
            tomorrow = (datetime.now(UTC) + timedelta(days=1)).replace(
                hour=0, minute=0, second=0, microsecond=0
            )

            log(f"pgbench tpcb-like, {args.clients} clients, {args.seconds} s")
            tps = run_pgbench(args.admin_url, args.clients, args.seconds)

            log("book_appointment without side effects")
            conn.execute("vacuum (analyze)")
            set_triggers(conn, enabled=False)
            without, output_without = run_booking_pgbench(
                args.admin_url, args.clients, args.seconds, tomorrow
            )
            set_triggers(conn, enabled=True)
            booked_before = conn.execute("select count(*) from public.bookings").fetchone()[0]
            messages_before = conn.execute("select count(*) from public.messages").fetchone()[0]
            jobs_before = conn.execute(DELIVERY_JOBS).fetchone()[0]

            log("book_appointment with every side effect")
            conn.execute("vacuum (analyze)")
            with_effects, output_with = run_booking_pgbench(
                args.admin_url, args.clients, args.seconds, tomorrow
            )
            booked = conn.execute("select count(*) from public.bookings").fetchone()[0] - booked_before
            messages = conn.execute("select count(*) from public.messages").fetchone()[0] - messages_before
            jobs = conn.execute(DELIVERY_JOBS).fetchone()[0] - jobs_before

            # Last: its slots run on past the types' booking horizon, which it does not check.
            log("bare inserts (the floor), without side effects")
            set_triggers(conn, enabled=False)
            conn.execute("vacuum (analyze)")
            bare, output_bare = run_booking_pgbench(
                args.admin_url, args.clients, args.seconds, tomorrow, BARE_SCRIPT
            )
            set_triggers(conn, enabled=True)
    finally:
        if not args.keep:
            with psycopg.connect(with_database(args.admin_url, "template1"), autocommit=True) as admin:
                for name, drop in zip((BENCH_DB, PGBENCH_DB), drops, strict=True):
                    kick_and(admin, name, drop)

    print()
    print(f"{'run':<28} {'per second':>12} {'ratio to pgbench':>18}")
    print(f"{'pgbench tpcb-like (tps)':<28} {tps:>12.1f} {1:>17.2f}x")
    print(f"{'bare inserts (floor)':<28} {bare:>12.1f} {bare / tps:>17.2f}x")
    print(f"{'book_appointment, no effects':<28} {without:>12.1f} {without / tps:>17.2f}x")
    print(f"{'book_appointment, effects':<28} {with_effects:>12.1f} {with_effects / tps:>17.2f}x")
    print()
    print(f"with effects: {booked} bookings wrote {messages} messages and {jobs} deliver_message jobs")
    for label, output in (("bare, without", output_bare), ("without", output_without), ("with", output_with)):
        if "aborted" in output or "error" in output.lower():
            print(f"SANITY: a client failed {label} effects:\n{output}")
            failed = True
    if messages != 6 * booked or jobs != messages:
        print(f"SANITY: expected 6 messages and 6 jobs per booking ({6 * booked}), got {messages} and {jobs}")
        failed = True
    verdict = "PASS" if with_effects / tps >= TARGET_RATIO else "MISS"
    print(
        f"booking throughput with side effects = {with_effects / tps:.2f}x pgbench,"
        f" without = {without / tps:.2f}x, bare inserts = {bare / tps:.2f}x (target with >= {TARGET_RATIO})"
        f" {verdict}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
