"""Booking throughput with the outbox, next to the bare floor and pgbench, in one run.

    .venv/bin/python bench/booking_side_effects.py [ADMIN_URL] [--clients 2,16] [--seconds 10]
        [--rounds 3] [--layout both|per-client|shared] [--keep]

ADMIN_URL is a superuser URL of the test cluster (default: $TEST_DATABASE_URL). The benchmark
clones the migrated template `careops_template` into `careops_bench_booking` and sets up two
layouts of the same bookable practitioners (open day and night, a 5-minute booking type with an
intake form attached, SMS on, 1,000 past bookings per practitioner):

    per-client   one active workspace per client, its owner the practitioner
    shared       ONE active workspace with one practitioner per client: many bookings on one
                 workspace at once (its rows, contacts, conversations, the same index pages)

For each client count (default 2 = the cores, and 16) and round, in an order reversed every
other round (harness.alternating), `--seconds` each:

    pgbench          the built-in tpcb-like script (-M prepared) on its own database
    bare             the floor: a function that only upserts the contact by email and inserts
                     the booking (every constraint, the exclusion one included, and the
                     non-outbox triggers), no validation, the outbox triggers off
    book             book_appointment as anon, as the booking page calls it: the booking, its
                     contact and ONE message_events job (the outbox); nothing else is written
                     in the transaction (the worker is not running: the jobs stay queued)
    nojob            (per-client) the same with the outbox triggers off: what the job costs
    checked          (per-client) the floor of the work a public booking cannot skip: the bare
                     writes plus what book_appointment must do around them, with the same
                     calls: the stranger's email, phone and name validated
                     (private.normalize_email, normalize_phone, clean_text), the anonymous churn
                     caps (private.limit_anonymous_action, #17), the slot
                     (private.bookable_practitioners: notice, hours, capacity, overlap), and the
                     outbox job the target counts (outbox on: one message_events job)

All booking runs are pgbench custom scripts (-M prepared) through the same wrapper: begin;
set local role anon; request.jwt.claims; the call; commit. Client c books its own practitioner
(p_staff_id) at a start from a sequence of the layout (every booking a distinct 5-minute slot),
with a new email (a uuid: always a new contact) and a random phone each time. Before each run
the jobs queue is purged and the written tables vacuumed.

It prints every run with the load average, then the issue's rows as same-run ratios
(harness.ratio_line on the medians over rounds; the per-round ratios beside them):

    book / bare, clients = cores    target >= 0.75
    book / bare, 16 clients         target >= 0.6
    book / pgbench, clients = cores target >= 0.5

and shared / per-client, and checked / bare (how far the target can go) and book / checked
(what book_appointment spends beyond the required work). It exits 1 only when a sanity check
fails (a client aborted, a book or checked run that did not queue exactly one message_events
job per booking, a bare or nojob run that queued any).
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg
from harness import (
    SanityError,
    alternating,
    bench_database,
    check,
    load_average,
    median,
    pgbench,
    pgbench_init,
    ratio_line,
    seed_history,
    spread,
)

from tests.booking_support import BookingWorkspace, create_booking_workspace

BENCH_DB = "careops_bench_booking"
PGBENCH_DB = "careops_bench_pgbench"
CORES = os.cpu_count() or 2
HISTORY_PER_PRACTITIONER = 1000  # past bookings each practitioner starts with
ACTION_HISTORY_PER_WORKSPACE = 2000  # anonymous actions of the last day each workspace starts with
SLOT_MINUTES = 5  # 730 days of 5-minute slots: room for a run's bookings (settle() restarts them)
OUTBOX_TRIGGERS = (
    ("public.contacts", "contacts_publish_event"),
    ("public.bookings", "bookings_publish_new_booking"),
)
EVENT_JOBS = "select count(*) from pgmq.q_events where message ->> 'kind' = 'message_events'"


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
    p_starts_at => to_timestamp(:base) + nextval('{layout.sequence}') * interval '{SLOT_MINUTES} minutes',
    p_name => 'Pat Customer',
    p_email => 'pat-' || gen_random_uuid() || '@example.test',
    p_phone => '+3361' || lpad((:n % 10000000)::text, 7, '0'),
    p_staff_id => (select t.practitioner {target})
);
commit;
"""


def bare_script(layout: Layout, function: str = "public.bench_bare_booking") -> str:
    return f"""\\set n random(1, 1000000000)
begin;
set local role anon;
select set_config('request.jwt.claims', '{{"role": "anon"}}', true);
select {function}(
    '{layout.name}',
    :client_id,
    to_timestamp(:base) + nextval('{layout.sequence}') * interval '{SLOT_MINUTES} minutes',
    'pat-' || gen_random_uuid() || '@example.test',
    '+3361' || lpad((:n % 10000000)::text, 7, '0')
);
commit;
"""


# The least a booking must write, for the floor figure: no workspace, type, slot or text
# validation, no practitioner choice, no token; the contact upsert and the booking insert
# with every constraint (the exclusion constraint included) and the non-outbox triggers.
BARE_FUNCTION = f"""
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
        p_starts_at, p_starts_at + interval '{SLOT_MINUTES} minutes'
    )
    returning id into v_booking_id;
    return v_booking_id;
end
$$;
grant execute on function public.bench_bare_booking(text, integer, timestamptz, text, text) to anon;

create function public.bench_checked_booking(
    p_layout text, p_client integer, p_starts_at timestamptz, p_email text, p_phone text
)
returns uuid
language plpgsql
security definer
set search_path = ''
set plan_cache_mode = force_generic_plan
as $$
declare
    v_target record;
    v_type public.booking_types;
    v_name text := private.clean_text('Pat Customer', 120, 'invalid_name');
    v_email text := private.normalize_email(p_email);
    v_phone text := private.normalize_phone(p_phone);
    v_contact_id uuid;
    v_booking_id uuid;
begin
    select w.id as workspace_id, w.timezone, t.booking_type, t.practitioner as practitioner_id into v_target
    from public.bench_targets as t
    join public.workspaces as w on w.slug = t.slug
    where t.layout = p_layout and t.client_id = p_client;
    select bt.* into v_type from public.booking_types as bt where bt.id = v_target.booking_type;
    perform private.limit_anonymous_action('book', v_target.workspace_id, v_email, v_phone);
    perform private.bookable_practitioners(
        v_target.workspace_id, v_target.timezone, v_type, p_starts_at, v_target.practitioner_id, null, null
    );
    insert into public.contacts (workspace_id, name, email, phone)
    values (v_target.workspace_id, v_name, v_email, v_phone)
    on conflict on constraint contacts_workspace_id_email_key do update set name = excluded.name
    returning id into v_contact_id;
    insert into public.bookings (
        workspace_id, booking_type_id, practitioner_id, contact_id, starts_at, ends_at
    )
    values (
        v_target.workspace_id, v_target.booking_type, v_target.practitioner_id, v_contact_id,
        p_starts_at, p_starts_at + interval '{SLOT_MINUTES} minutes'
    )
    returning id into v_booking_id;
    return v_booking_id;
end
$$;
grant execute on function public.bench_checked_booking(text, integer, timestamptz, text, text) to anon;
"""


def set_outbox(conn: psycopg.Connection, enabled: bool) -> None:
    for table, trigger in OUTBOX_TRIGGERS:
        conn.execute(f"alter table {table} {'enable' if enabled else 'disable'} trigger {trigger}")


def bookable_workspace(conn: psycopg.Connection, practitioners: int) -> BookingWorkspace:
    """A workspace of `practitioners`, its 5-minute type with an intake form, SMS on, a history."""
    place = create_booking_workspace(
        conn, practitioners=practitioners, duration=SLOT_MINUTES, interval=SLOT_MINUTES, max_days_ahead=730
    )
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
    seed_action_history(conn, place.workspace_id)
    return place


def seed_action_history(conn: psycopg.Connection, workspace_id: object) -> None:
    """A day of anonymous actions on the workspace's public page (other customers, 2 to 23 hours
    ago: outside the caps' hour), so the churn caps' counts are planned for a log in use. On an
    emptied log the statistics say "no rows", the generic plans of the counts are sequential
    scans, and they grow with every booking of the run."""
    conn.execute(
        """
        insert into private.anonymous_actions
            (workspace_id, kind, email_key, phone_key, client_address_key, happened_at)
        select
            %(ws)s, 'book',
            sha256(convert_to('past-' || n || '@bench.test', 'UTF8')),
            sha256(convert_to('+3360' || lpad(n::text, 7, '0'), 'UTF8')),
            sha256(convert_to('198.51.100.' || n %% 250, 'UTF8')),
            now() - interval '2 hours' - (n %% 1260) * interval '1 minute'
        from generate_series(1, %(n)s) as n
        """,
        {"ws": workspace_id, "n": ACTION_HISTORY_PER_WORKSPACE},
    )


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
    conn.execute("grant select on public.bench_targets to anon")
    for layout in layouts:
        conn.execute(f"create sequence {layout.sequence}")
        conn.execute(f"grant usage on sequence {layout.sequence} to anon")
    conn.execute(BARE_FUNCTION)
    conn.execute("vacuum (analyze)")


def settle(conn: psycopg.Connection, base: int) -> None:
    """Before a run: the bookings and contacts of the runs before deleted and the slot sequences
    restarted (every run starts from the same tables and slots), no queued jobs, the written
    tables vacuumed."""
    conn.execute("delete from public.bookings where starts_at >= to_timestamp(%s)", [base])
    conn.execute(
        "delete from public.contacts as c where c.email like 'pat-%%@example.test'"
        " and not exists (select 1 from public.bookings as b where b.contact_id = c.id)"
    )
    # The churn caps' log of the runs (the seeded day of actions is older than an hour).
    conn.execute("delete from private.anonymous_actions where happened_at > now() - interval '1 hour'")
    for layout in LAYOUTS.values():
        conn.execute(f"alter sequence if exists {layout.sequence} restart")
    conn.execute("select pgmq.purge_queue('jobs'), pgmq.purge_queue('events')")
    conn.execute(
        "vacuum (analyze) public.bookings, public.contacts, private.anonymous_actions,"
        " pgmq.q_jobs, pgmq.q_events"
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("admin_url", nargs="?", default=os.environ.get("TEST_DATABASE_URL"))
    parser.add_argument("--clients", default=f"{CORES},16", help="client counts, comma-separated")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--layout", choices=["both", *LAYOUTS], default="both")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    if not args.admin_url:
        parser.error("give ADMIN_URL or set TEST_DATABASE_URL")
    layouts = list(LAYOUTS.values()) if args.layout == "both" else [LAYOUTS[args.layout]]
    counts = [int(c) for c in args.clients.split(",")]
    base = int(
        (datetime.now(UTC) + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
    )
    # tps[(clients, variant)] per round; variant: pgbench | bare <layout> | book <layout>
    tps: dict[tuple[int, str], list[float]] = {}

    try:
        with (
            bench_database(args.admin_url, BENCH_DB, args.keep) as url,
            bench_database(args.admin_url, PGBENCH_DB, args.keep, empty=True) as pgbench_url,
            psycopg.connect(url, autocommit=True) as conn,
        ):
            log(f"seeding {max(counts)} practitioners per layout ({load_average()})")
            seed(conn, max(counts), layouts)
            pgbench_init(pgbench_url, max(counts))
            variants = ["pgbench"]
            variants += [f"{kind} {layout.name}" for layout in layouts for kind in ("bare", "book")]
            if PER_CLIENT in layouts:
                variants += [f"nojob {PER_CLIENT.name}", f"checked {PER_CLIENT.name}"]
            for clients in counts:
                threads = min(clients, 4)
                for number, variant in alternating(variants, args.rounds):
                    if variant == "pgbench":
                        result = pgbench(
                            pgbench_url, clients, args.seconds, threads, prepared=True, vacuum=True
                        )
                    else:
                        kind, name = variant.split()
                        layout = LAYOUTS[name]
                        settle(conn, base)
                        with_job = kind in ("book", "checked")
                        set_outbox(conn, enabled=with_job)
                        script = {
                            "bare": bare_script(layout),
                            "checked": bare_script(layout, "public.bench_checked_booking"),
                        }.get(kind) or booking_script(layout)
                        result = pgbench(
                            url, clients, args.seconds, threads, script, prepared=True, defines={"base": base}
                        )
                        set_outbox(conn, enabled=True)
                        jobs = conn.execute(EVENT_JOBS).fetchone()[0]
                        expected = result.transactions if with_job else 0
                        check(
                            jobs == expected,
                            f"{variant}: {result.transactions} bookings queued {jobs} message_events jobs"
                            f" (expected {expected})",
                        )
                    tps.setdefault((clients, variant), []).append(result.tps)
                    print(
                        f"    round {number + 1}, {clients:>2} clients, {variant:<16} {result.tps:8.1f} tps"
                        f"  ({load_average()})",
                        flush=True,
                    )
    except SanityError as exc:
        print(f"\nsanity check failed: {exc}", file=sys.stderr)
        return 1

    def per_round(clients: int, value: str, base_name: str) -> str:
        ratios = [v / b for v, b in zip(tps[(clients, value)], tps[(clients, base_name)], strict=True)]
        return f"per round {' '.join(f'{r:.2f}' for r in ratios)}x"

    print()
    print(f"{'run':<36} {'tps: median (min-max, runs)':>32}")
    for (clients, variant), values in tps.items():
        print(f"{f'{clients} clients, {variant}':<36} {spread(values):>32}")
    print()
    targets = {CORES: 0.75, 16: 0.6}
    for layout in layouts:
        for clients in counts:
            book, bare = f"book {layout.name}", f"bare {layout.name}"
            print(
                ratio_line(
                    f"book_appointment + outbox job, {layout.label}, {clients} clients,",
                    median(tps[(clients, book)]),
                    "bare floor",
                    median(tps[(clients, bare)]),
                    targets.get(clients, 0.6),
                    "tps",
                ),
                f"[{per_round(clients, book, bare)}]",
            )
        if CORES in counts:
            book = f"book {layout.name}"
            print(
                ratio_line(
                    f"book_appointment + outbox job, {layout.label}, {CORES} clients,",
                    median(tps[(CORES, book)]),
                    "pgbench tpcb-like",
                    median(tps[(CORES, "pgbench")]),
                    0.5,
                    "tps",
                ),
                f"[{per_round(CORES, book, 'pgbench')}]",
            )
    if PER_CLIENT in layouts:
        for clients in counts:
            nojob, book = (
                median(tps[(clients, "nojob per-client")]),
                median(tps[(clients, "book per-client")]),
            )
            bare = median(tps[(clients, "bare per-client")])
            checked = median(tps[(clients, "checked per-client")])
            print(
                f"{clients} clients, one workspace per client: book_appointment without its job / bare floor"
                f" {nojob / bare:.2f}x; with the job / without {book / nojob:.2f}x"
            )
            print(
                f"  the required work (bare + validation + churn caps + slot check + job) / bare floor"
                f" {checked / bare:.2f}x"
                f" [{per_round(clients, 'checked per-client', 'bare per-client')}]: the most book / bare can"
                f" reach; book_appointment + job / the required work {book / checked:.2f}x"
                f" [{per_round(clients, 'book per-client', 'checked per-client')}]"
            )
    if len(layouts) == 2:
        for clients in counts:
            book = median(tps[(clients, "book shared")]) / median(tps[(clients, "book per-client")])
            bare = median(tps[(clients, "bare shared")]) / median(tps[(clients, "bare per-client")])
            print(
                f"one workspace / one workspace per client, {clients} clients, same run:"
                f" book {book:.2f}x, bare {bare:.2f}x"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
