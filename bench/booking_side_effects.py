"""Booking throughput with and without the automation side effects, next to pgbench.

    .venv/bin/python bench/booking_side_effects.py [ADMIN_URL] [--clients 16] [--seconds 20]
        [--layout both|per-client|shared] [--keep]

ADMIN_URL is a superuser URL of the test cluster (default: $TEST_DATABASE_URL). The
benchmark clones the migrated template `careops_template` into `careops_bench_booking` and
sets up two layouts of the same bookable practitioners (each open day and night, a booking
type with an intake form attached, SMS on, 1,000 past bookings per practitioner):

    per-client   one active workspace per client, its owner the practitioner
    shared       ONE active workspace with one practitioner per client (the owner and staff)

and measures, one after the other, for `--seconds` each with `--clients` concurrent clients:

    pgbench          the built-in tpcb-like script (pgbench -M prepared) on its own database
    without effects  book_appointment as anon, the automation triggers disabled (per-client)
    with effects     book_appointment as anon, every side effect on: a new contact's welcome,
                     the confirmation, the form submission and its request, the conversation,
                     email and SMS each, with their deliver_message jobs (6 messages, 6 jobs);
                     per-client, then shared
    bare inserts     the floor: a function that only writes what a booking must (upsert the
                     contact by email, insert the booking with every constraint and trigger
                     but the automation ones), no validation, through the same wrapper;
                     per-client, then shared

The booking runs are pgbench too (a custom script, -M prepared, same clients and duration),
so both sides of the ratio pay the same client costs. Client c always books its own
practitioner (p_staff_id; in the per-client layout the only one of its workspace), at a
start from a sequence of the layout (one nextval per transaction: every booking of a layout
a distinct 30-minute slot), with a new email and phone each time, as the booking page does:
begin; set local role anon; request.jwt.claims; book_appointment; commit. So in the shared
layout the clients never wait for each other's practitioner lock or slot: what they share
is the workspace (its rows, its contacts, conversations and messages, the same index
pages). It prints bookings per second, the ratios to pgbench's tps (issue target: >= 0.75
with effects) for both layouts, and shared / per-client. It exits 1 only when a sanity
check fails (a client aborted on an error, missing messages or jobs).
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from harness import (
    SanityError,
    bench_database,
    pgbench_init,
    pgbench_run,
    ratio_line,
    seed_history,
)
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.booking_support import BookingWorkspace, create_booking_workspace

BENCH_DB = "careops_bench_booking"
PGBENCH_DB = "careops_bench_pgbench"
TARGET_RATIO = 0.75
HISTORY_PER_PRACTITIONER = 1000  # past bookings each practitioner starts with
DELIVERY_JOBS = "select count(*) from pgmq.q_jobs where message ->> 'kind' = 'deliver_message'"
AUTOMATION_TRIGGERS = {
    "public.contacts": ["contacts_queue_welcome_message"],
    "public.bookings": ["bookings_announce_new_booking"],
}
MESSAGES_PER_BOOKING = 6


@dataclass(frozen=True)
class Layout:
    name: str  # its rows in public.bench_targets
    sequence: str  # its slots: one nextval per booking
    label: str


PER_CLIENT = Layout("per-client", "public.bench_slots", "one workspace per client")
SHARED = Layout("shared", "public.bench_shared_slots", "all clients in one workspace")
LAYOUTS = {layout.name: layout for layout in (PER_CLIENT, SHARED)}


def log(message: str) -> None:
    print(f"==> {message}", flush=True)


def booking_script(layout: Layout) -> str:
    target = f"from public.bench_targets t where t.layout = '{layout.name}' and t.client_id = :client_id"
    return f"""\\set n random(1, 1000000000)
begin;
set local role anon;
select set_config('request.jwt.claims', '{{"role": "anon"}}', true);
select booking_id from public.book_appointment(
    p_workspace_slug => (select t.slug {target}),
    p_booking_type_id => (select t.booking_type {target}),
    p_starts_at => to_timestamp(:base) + nextval('{layout.sequence}') * interval '30 minutes',
    p_name => 'Pat Customer',
    p_email => 'pat-' || :n || '@example.test',
    p_phone => '+3361' || lpad((:n % 10000000)::text, 7, '0'),
    p_staff_id => (select t.practitioner {target})
);
commit;
"""


def bare_script(layout: Layout) -> str:
    return f"""\\set n random(1, 1000000000)
begin;
set local role anon;
select set_config('request.jwt.claims', '{{"role": "anon"}}', true);
select public.bench_bare_booking(
    '{layout.name}',
    :client_id,
    to_timestamp(:base) + nextval('{layout.sequence}') * interval '30 minutes',
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
    p_layout text, p_client integer, p_starts_at timestamptz, p_email text, p_phone text
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
    select w.id as workspace_id, t.booking_type, t.practitioner as practitioner_id into v_target
    from public.bench_targets as t
    join public.workspaces as w on w.slug = t.slug
    where t.layout = p_layout and t.client_id = p_client;
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
grant execute on function public.bench_bare_booking(text, integer, timestamptz, text, text) to anon;
"""


def set_triggers(conn: psycopg.Connection, enabled: bool) -> None:
    for table, triggers in AUTOMATION_TRIGGERS.items():
        for trigger in triggers:
            conn.execute(
                sql.SQL("alter table {} {} trigger {}").format(
                    sql.SQL(table), sql.SQL("enable" if enabled else "disable"), sql.Identifier(trigger)
                )
            )


def bookable_workspace(conn: psycopg.Connection, practitioners: int) -> BookingWorkspace:
    """A workspace of `practitioners`, its type with an intake form, SMS on, a history."""
    place = create_booking_workspace(conn, practitioners=practitioners)
    form_id = conn.execute(
        "insert into public.intake_forms (workspace_id, name, fields) values (%s, 'Health', %s) returning id",
        [place.workspace_id, '[{"key": "allergies", "type": "text", "label": "Allergies"}]'],
    ).fetchone()[0]
    conn.execute(
        "insert into public.booking_type_forms (workspace_id, booking_type_id, form_id) values (%s, %s, %s)",
        [place.workspace_id, place.booking_type_id, form_id],
    )
    conn.execute(
        "update public.communication_settings set sms_enabled = true,"
        " sms_from_number = '+33612345678' where workspace_id = %s",
        [place.workspace_id],
    )
    seed_history(conn, place.workspace_id, place.booking_type_id, HISTORY_PER_PRACTITIONER)
    return place


def seed(conn: psycopg.Connection, clients: int, layouts: list[Layout]) -> None:
    """The layouts' workspaces and public.bench_targets: (layout, client) -> its workspace,
    type and practitioner."""
    conn.execute(
        "create table public.bench_targets (layout text, client_id integer, slug text, booking_type uuid,"
        " practitioner uuid, primary key (layout, client_id))"
    )
    targets = []
    if PER_CLIENT in layouts:
        for n in range(clients):
            place = bookable_workspace(conn, 1)
            targets.append((PER_CLIENT.name, n, place.slug, place.booking_type_id, place.practitioners[0]))
    if SHARED in layouts:
        place = bookable_workspace(conn, clients)
        targets += [
            (SHARED.name, n, place.slug, place.booking_type_id, practitioner)
            for n, practitioner in enumerate(place.practitioners)
        ]
    conn.cursor().executemany("insert into public.bench_targets values (%s, %s, %s, %s, %s)", targets)
    conn.execute("update public.booking_types set max_days_ahead = 730")
    conn.execute("grant select on public.bench_targets to anon")
    for layout in layouts:
        conn.execute(f"create sequence {layout.sequence}")
        conn.execute(f"grant usage on sequence {layout.sequence} to anon")
    conn.execute(BARE_FUNCTION)
    conn.execute("vacuum (analyze)")


@dataclass
class Written:
    bookings: int
    messages: int
    jobs: int
    practitioners: int


def written(conn: psycopg.Connection, layout: Layout) -> Written:
    """What the layout's workspaces hold: future bookings, messages, deliver_message jobs
    (those of every layout: the runs go one at a time), practitioners booked."""
    row = conn.execute(
        "select count(*), count(distinct b.practitioner_id) from public.bookings as b"
        " where b.starts_at > now() and b.workspace_id in (select w.id from public.workspaces as w"
        " join public.bench_targets as t on t.slug = w.slug where t.layout = %s)",
        [layout.name],
    ).fetchone()
    messages = conn.execute(
        "select count(*) from public.messages as m where m.workspace_id in (select w.id from"
        " public.workspaces as w join public.bench_targets as t on t.slug = w.slug where t.layout = %s)",
        [layout.name],
    ).fetchone()[0]
    return Written(row[0], messages, conn.execute(DELIVERY_JOBS).fetchone()[0], row[1])


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("admin_url", nargs="?", default=os.environ.get("TEST_DATABASE_URL"))
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--layout", choices=["both", *LAYOUTS], default="both")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    if not args.admin_url:
        parser.error("give ADMIN_URL or set TEST_DATABASE_URL")
    layouts = list(LAYOUTS.values()) if args.layout == "both" else [LAYOUTS[args.layout]]
    threads = min(args.clients, 4)
    base = int(
        (datetime.now(UTC) + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
    )
    tps: dict[str, float] = {}
    failed: list[str] = []

    def bookings(url: str, script: str) -> float:
        return pgbench_run(
            url, args.clients, args.seconds, threads, script, prepared=True, defines={"base": base}
        )

    try:
        with (
            bench_database(args.admin_url, BENCH_DB, args.keep) as url,
            bench_database(args.admin_url, PGBENCH_DB, args.keep, empty=True) as pgbench_url,
            psycopg.connect(url, autocommit=True) as conn,
        ):
            seed(conn, args.clients, layouts)

            log(f"pgbench tpcb-like, {args.clients} clients, {args.seconds} s")
            pgbench_init(pgbench_url, args.clients)
            tps["pgbench"] = pgbench_run(
                pgbench_url, args.clients, args.seconds, threads, prepared=True, vacuum=True
            )

            if PER_CLIENT in layouts:
                log(f"book_appointment without side effects, {PER_CLIENT.label}")
                conn.execute("vacuum (analyze)")
                set_triggers(conn, enabled=False)
                tps["without"] = bookings(url, booking_script(PER_CLIENT))
                set_triggers(conn, enabled=True)

            for layout in layouts:
                log(f"book_appointment with every side effect, {layout.label}")
                conn.execute("vacuum (analyze)")
                before = written(conn, layout)
                tps[f"with {layout.name}"] = bookings(url, booking_script(layout))
                after = written(conn, layout)
                booked, messages = after.bookings - before.bookings, after.messages - before.messages
                jobs = after.jobs - before.jobs
                print(
                    f"    {booked} bookings wrote {messages} messages and {jobs} deliver_message jobs;"
                    f" {after.practitioners} practitioners booked"
                )
                if messages != MESSAGES_PER_BOOKING * booked or jobs != messages:
                    failed.append(
                        f"{layout.name}: expected {MESSAGES_PER_BOOKING} messages and jobs per booking"
                        f" ({MESSAGES_PER_BOOKING * booked}), got {messages} and {jobs}"
                    )

            # Last: their slots run on past the types' booking horizon, which they do not check.
            for layout in layouts:
                log(f"bare inserts (the floor), without side effects, {layout.label}")
                set_triggers(conn, enabled=False)
                conn.execute("vacuum (analyze)")
                tps[f"bare {layout.name}"] = bookings(url, bare_script(layout))
                set_triggers(conn, enabled=True)
    except SanityError as exc:
        print(f"\nsanity check failed: {exc}", file=sys.stderr)
        return 1

    pgbench = tps["pgbench"]
    rows = [("pgbench tpcb-like (tps)", "pgbench")]
    for layout in layouts:
        prefix = "" if layout is PER_CLIENT else "one workspace: "
        rows += [(f"{prefix}bare inserts (floor)", f"bare {layout.name}")]
        if layout is PER_CLIENT:
            rows += [("book_appointment, no effects", "without")]
        rows += [(f"{prefix}book_appointment, effects", f"with {layout.name}")]
    print()
    print(f"{'run':<44} {'per second':>12} {'ratio to pgbench':>18}")
    for label, key in rows:
        print(f"{label:<44} {tps[key]:>12.1f} {tps[key] / pgbench:>17.2f}x")
    print()
    for layout in layouts:
        print(
            ratio_line(
                f"book_appointment with side effects, {layout.label},",
                tps[f"with {layout.name}"],
                "pgbench tpcb-like",
                pgbench,
                TARGET_RATIO,
                "tps",
            )
        )
    if PER_CLIENT in layouts:
        print(
            f"  without side effects = {tps['without'] / pgbench:.2f}x pgbench,"
            f" bare inserts = {tps['bare per-client'] / pgbench:.2f}x"
        )
    if len(layouts) == 2:
        print(
            f"all clients in one workspace / one workspace per client, same run: with side effects"
            f" {tps['with shared'] / tps['with per-client']:.2f}x,"
            f" bare inserts {tps['bare shared'] / tps['bare per-client']:.2f}x"
        )
    for message in failed:
        print(f"SANITY: {message}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
