"""The reminder cron tick against the sweep it replaced, and the worker's writing of the
reminders against the same rows written by plain SQL: 1,000,000 bookings, 1,000 due.

    .venv/bin/python bench/reminder_sweep.py [ADMIN_URL] [--rounds 5] [--write-rounds 25] [--keep]

ADMIN_URL is a superuser URL of the test cluster (default: $TEST_DATABASE_URL). The benchmark
clones `careops_template` into `careops_bench_reminders` and seeds set-based (triggers off: the
seed is not what is measured) 100 active workspaces (owner as practitioner, SMS on, 100
contacts with email, phone and conversation) with 10,000 bookings each, one per hour: 6,000 in
the past (reminded), 10 starting 2 to 11 hours from now (due: 1,000 in all), the rest 48 hours
ahead and later. Then `vacuum (analyze)`, and in rounds (the order reversed every other round):

    tick     private.send_due_reminders() as landed: records the due bookings in
             private.booking_reminders and enqueues 10 message_events jobs of 100 reminder events
    sweep    the sweep before the outbox, bench-only (bench.send_due_reminders_before, its SQL from
             git 55e1e93, the message_request row given its new last field): records the due
             bookings and writes all their messages in the tick (private.queue_messages: an
             email and an SMS per booking, their deliver_message jobs, the conversations touched)
    floor    the tick's writes by plain SQL (bench-only, one statement): the due rows recorded,
             the same 10 jobs of 100 events: what the tick cannot go below

each in a new connection (pg_cron runs every job in a new one) and a transaction rolled back,
so every sample sees the same due bookings. Then, on one connection, in --write-rounds rounds
(2 discarded; a sample takes a tenth of a second, and one sample per round swung the ratio
from 1.3 to 2.1 on a shared machine):

    write    private.write_event_messages(the tick's 1,000 reminder events), as the worker calls
             it for a read batch of 10 such jobs
    plain    the rows that call wrote (2,000 messages, read back once), inserted again by a plain
             `insert into public.messages ... select`, plus their 2,000 deliver_message jobs
             (one pgmq.send_batch) and their 1,000 conversations' last_message_at: the writes alone.
             Every column but the id, which the table's default makes as for any insert: the ids
             of rows just written, rolled back and vacuumed go back into index slots the vacuum
             freed, 5 ms (6 %) cheaper than new ones

each in a transaction rolled back. Before every sample the tables the samples write are
vacuumed (rolled-back rows would otherwise pile up in their indexes). It prints every sample
with the load average and:

    tick / sweep     target <= 0.1
    write / plain    target <= 1.5

plus the plan of the tick's selection (an index range scan of bookings_confirmed_starts_at_idx,
not a sequential scan: else exit 1). It exits 1 only when a sanity check fails.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psycopg
from harness import (
    SanityError,
    alternating,
    check,
    clone_template,
    drop_database,
    load_average,
    median,
    percentile,
    ratio_line,
    spread,
)
from psycopg.types.json import Jsonb

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = "careops_bench_reminders"
WORKSPACES = 100
DUE_PER_WORKSPACE = 10  # 1,000 due in all
WARMUP = 2
# The sweep before the outbox: it wrote every reminder message in the tick.
BEFORE = ("55e1e93", "supabase/migrations/20261201000400_messaging.sql")

# The tick's selection, as private.send_due_reminders runs it.
DUE_QUERY = """
select b.id, b.revision, b.starts_at
from public.bookings as b
where
    b.status = 'confirmed'
    and b.starts_at > now()
    and b.starts_at <= now() + interval '24 hours'
    and (b.starts_at - b.created_at >= interval '24 hours' or b.created_at <= now() - interval '12 hours')
    and not exists (
        select 1 from private.booking_reminders as r
        where r.booking_id = b.id and r.revision = b.revision
    )
"""
# The tick's floor (bench-only): its writes by plain SQL in one statement, no conflict handling,
# ordering or plpgsql: the due rows recorded and the same 10 jobs of 100 events.
FLOOR = f"""
create function bench.tick_floor() returns integer language sql as $$
    with reminded as (
        insert into private.booking_reminders (booking_id, revision)
        select d.id, d.revision from ({DUE_QUERY}) as d
        returning booking_id, revision
    ),
    jobs as (
        select count(*) as sent from pgmq.send_batch('events', array(
            select jsonb_build_object('kind', 'message_events', 'payload', jsonb_build_object(
                'events',
                jsonb_agg(
                    jsonb_build_object('kind', 'reminder', 'booking_id', n.booking_id, 'revision', n.revision)
                )
            ))
            from (select r.*, (row_number() over () - 1) / 100 as batch from reminded as r) as n
            group by n.batch
        ))
    )
    select (select count(*) from reminded)::integer from jobs where jobs.sent >= 0
$$;
"""
EVENTS = """
select jsonb_agg(e.event order by q.msg_id, e.ordinal), count(distinct q.msg_id)
from pgmq.q_events as q
cross join lateral
    jsonb_array_elements(q.message -> 'payload' -> 'events') with ordinality as e (event, ordinal)
"""
PLAIN = """
with inserted as (
    insert into public.messages ({columns}) select {columns} from bench_written
    returning id, conversation_id
),
jobs as (
    select count(*) from pgmq.send_batch(
        'jobs',
        array(
            select jsonb_build_object(
                'kind', 'deliver_message', 'payload', jsonb_build_object('message_id', i.id)
            )
            from inserted as i order by i.id
        )
    )
),
touched as (
    update public.conversations as v set last_message_at = now()
    where v.id in (select i.conversation_id from inserted as i) and v.last_message_at is distinct from now()
    returning v.id
)
select (select count(*) from inserted), (select * from jobs), (select count(*) from touched)
"""


def log(message: str) -> None:
    print(f"==> {message}", flush=True)


def sweep_before() -> str:
    """The pre-outbox send_due_reminders as bench.send_due_reminders_before."""
    revision, path = BEFORE
    git = shutil.which("git") or "git"
    text = subprocess.run(  # noqa: S603 (a fixed revision and path of this repository)
        [git, "-C", str(ROOT), "show", f"{revision}:{path}"], check=True, capture_output=True, text=True
    ).stdout
    start = text.index("create function private.send_due_reminders()")
    end = text.index("$$;", text.index("as $$", start) + 5) + 3
    body = text[start:end].replace("private.send_due_reminders(", "bench.send_due_reminders_before(", 1)
    # private.message_request has three more fields since: form_submission_id, and the booking as
    # the caller read it (queue_messages no longer reads it: the number given with it, and the
    # skip rule applied to it).
    old = "b.id, r.revision\n        )::private.message_request"
    check(old in body, "the old sweep's message_request constructor moved")
    return body.replace(
        old,
        "b.id, r.revision, null, b.contact_phone,"
        " private.outdated_booking_message('reminder', r.revision, b.status, b.revision)\n"
        "        )::private.message_request",
    )


def seed_tenants(conn: psycopg.Connection) -> None:
    """100 active workspaces, each with its owner as practitioner, a booking type, SMS on,
    100 contacts with email and phone and their conversations."""
    conn.execute(
        """
        insert into auth.users (instance_id, id, aud, role, email, raw_app_meta_data, raw_user_meta_data,
                                created_at, updated_at)
        select '00000000-0000-0000-0000-000000000000', gen_random_uuid(), 'authenticated', 'authenticated',
               format('bench-owner-%s@example.test', n), '{}', '{}', now(), now()
        from generate_series(1, {WORKSPACES}) as n;
        """.replace("{WORKSPACES}", str(WORKSPACES))
    )
    conn.execute(
        """
        insert into public.profiles (id, email, full_name)
        select u.id, u.email, 'Owner ' || u.email from auth.users as u where u.email like 'bench-owner-%'
        on conflict (id) do nothing;
        insert into public.workspaces (name, slug, timezone, status, created_by)
        select 'Bench ' || n, 'bench-ws-' || n, 'Europe/Paris', 'active', u.id
        from auth.users as u
        cross join lateral (select split_part(split_part(u.email, '-', 3), '@', 1)::int) as x (n)
        where u.email like 'bench-owner-%';
        insert into public.workspace_members (workspace_id, user_id, role)
        select w.id, w.created_by, 'owner' from public.workspaces as w where w.slug like 'bench-ws-%';
        select private.create_communication_defaults(w.id)
        from public.workspaces as w where w.slug like 'bench-ws-%';
        update public.communication_settings set sms_enabled = true, sms_from_number = '+33612345678';
        insert into public.practitioners (workspace_id, user_id)
        select w.id, w.created_by from public.workspaces as w where w.slug like 'bench-ws-%'
        on conflict do nothing;
        insert into public.booking_types (workspace_id, name, duration_minutes, slot_interval_minutes)
        select w.id, 'Consultation', 30, 30 from public.workspaces as w where w.slug like 'bench-ws-%';
        insert into public.contacts (workspace_id, name, email, phone)
        select w.id, 'Customer ' || c, format('customer-%s-%s@example.test', w.slug, c),
               '+3361' || lpad((c * 1000 + 7)::text, 7, '0')
        from public.workspaces as w cross join generate_series(1, 100) as c
        where w.slug like 'bench-ws-%';
        insert into public.conversations (workspace_id, contact_id)
        select c.workspace_id, c.id from public.contacts as c;
        create table public.bench_contacts as
        select c.workspace_id, c.id, row_number() over (partition by c.workspace_id order by c.id) - 1 as n
        from public.contacts as c;
        create index on public.bench_contacts (workspace_id, n);
        """
    )


def seed_bookings(conn: psycopg.Connection, first: int, count: int) -> None:
    """Bookings number `first` .. `first + count - 1` of every workspace's practitioner, one per
    hour: numbers below 0 lie in the past (reminded), 0..DUE-1 start 2 to 11 hours from now
    (due), the rest start 48 hours from now and later (not due yet). Made 3 days before start."""
    conn.execute(
        """
        with inserted as (
        insert into public.bookings (workspace_id, booking_type_id, practitioner_id, contact_id,
                                     starts_at, ends_at, status, created_at)
        select w.id, t.id, p.id, c.id,
               s.starts_at, s.starts_at + interval '30 minutes', 'confirmed',
               s.starts_at - interval '3 days'
        from public.workspaces as w
        join public.booking_types as t on t.workspace_id = w.id
        join public.practitioners as p on p.workspace_id = w.id
        cross join generate_series(%(first)s::int, %(last)s::int) as k
        join public.bench_contacts as c on c.workspace_id = w.id and c.n = abs(k) %% 100
        cross join lateral (
            select date_trunc('hour', now()) + case
                when k < 0 then k * interval '1 hour'
                when k < %(due)s::int then (k + 2) * interval '1 hour'
                else interval '48 hours' + (k - %(due)s::int) * interval '1 hour'
            end
        ) as s (starts_at)
        where w.slug like 'bench-ws-%%'
        returning id, revision, starts_at
        )
        insert into private.booking_reminders (booking_id, revision, reminded_at)
        select i.id, i.revision, i.starts_at - interval '20 hours'
        from inserted as i where i.starts_at < now()
        """,
        {"first": first, "last": first + count - 1, "due": DUE_PER_WORKSPACE},
    )


def timed(
    conn: psycopg.Connection, statement: str, params: list[object] | None = None
) -> tuple[float, tuple]:
    started = time.perf_counter()
    row = conn.execute(statement, params).fetchone()
    return (time.perf_counter() - started) * 1000, tuple(row or ())


# Before every sample: what the rolled-back samples left (dead rows, index entries) vacuumed.
SETTLE = "vacuum private.booking_reminders, public.messages, public.conversations, pgmq.q_jobs, pgmq.q_events"


def cron_sample(url: str, function: str) -> tuple[float, int, int]:
    """One run of `function` as pg_cron runs it (a new connection), rolled back: (ms, its
    result, message_events jobs it queued)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(SETTLE)
    with psycopg.connect(url) as conn:
        conn.execute("select 1")
        ms, row = timed(conn, f"select {function}()")
        jobs = conn.execute(EVENTS).fetchone()[1]
        conn.rollback()
    return ms, row[0], jobs


def explain(conn: psycopg.Connection) -> str:
    with conn.transaction(force_rollback=True):
        rows = conn.execute("explain (analyze, buffers, costs off) " + DUE_QUERY).fetchall()
    return "\n".join(row[0] for row in rows)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("admin_url", nargs="?", default=os.environ.get("TEST_DATABASE_URL"))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--write-rounds", type=int, default=25)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    if not args.admin_url:
        parser.error("give ADMIN_URL or set TEST_DATABASE_URL")

    url = clone_template(args.admin_url, BENCH_DB)
    samples: dict[str, list[float]] = {}
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("set session_replication_role = replica")  # seeding only: no triggers
            started = time.perf_counter()
            seed_tenants(conn)
            # 10,000 per workspace: 6,000 past, 10 due, 3,990 later (1,000,000 in all).
            seed_bookings(conn, -6000, 10000)
            conn.execute("set session_replication_role = origin")
            conn.execute("create schema bench")
            conn.execute(sweep_before())
            conn.execute(FLOOR)
            conn.execute("select pgmq.purge_queue('jobs'), pgmq.purge_queue('events')")
            conn.execute("vacuum (analyze)")
            total = conn.execute("select count(*) from public.bookings").fetchone()[0]
            log(f"seeded {total:,} bookings in {time.perf_counter() - started:.1f} s ({load_average()})")

            functions = {
                "tick": "private.send_due_reminders",
                "sweep": "bench.send_due_reminders_before",
                "floor": "bench.tick_floor",
            }
            for _ in range(WARMUP):
                for function in functions.values():
                    cron_sample(url, function)
            for number, name in alternating(list(functions), args.rounds):
                ms, reminded, jobs = cron_sample(url, functions[name])
                check(reminded == 1000, f"{name} reminded {reminded}, expected 1,000")
                check(jobs == (0 if name == "sweep" else 10), f"{name} queued {jobs} message_events jobs")
                samples.setdefault(name, []).append(ms)
                print(f"    round {number + 1}, {name:<5} {ms:8.1f} ms  ({load_average()})", flush=True)

            # The tick's events, and the rows the worker writes for them (read back once).
            with conn.transaction(force_rollback=True):
                conn.execute("select private.send_due_reminders()")
                events = conn.execute(EVENTS).fetchone()[0]
                conn.execute("select private.write_event_messages(%s)", [Jsonb(events)])
                columns = [
                    row[0]
                    for row in conn.execute(
                        "select column_name from information_schema.columns where table_schema = 'public'"
                        " and table_name = 'messages' and is_generated = 'NEVER' order by ordinal_position"
                    )
                ]
                rows = conn.execute(
                    f"select {', '.join(columns)} from public.messages where template_kind = 'reminder'"
                ).fetchall()
            check(len(rows) == 2000, f"the reminder events wrote {len(rows)} messages, expected 2,000")
            listed = ", ".join(columns)
            conn.execute(f"create temp table bench_written as select {listed} from public.messages limit 0")
            with conn.cursor().copy(f"copy bench_written ({listed}) from stdin") as copy:
                for row in rows:
                    copy.write_row(row)
            conn.execute("analyze bench_written")
            plain = PLAIN.format(columns=", ".join(column for column in columns if column != "id"))
            for number, name in alternating(["write", "plain"], WARMUP + args.write_rounds):
                conn.execute(SETTLE)
                with conn.transaction(force_rollback=True):
                    if name == "write":
                        ms, row = timed(conn, "select private.write_event_messages(%s)", [Jsonb(events)])
                        check(row[0] == 2000, f"write_event_messages wrote {row[0]} messages")
                    else:
                        ms, row = timed(conn, plain)
                        check(row == (2000, 2000, 1000), f"plain SQL wrote {row}")
                if number >= WARMUP:
                    samples.setdefault(name, []).append(ms)
                    if len(samples[name]) == len(samples.get("write" if name == "plain" else "plain", [])):
                        write, plain_ms = samples["write"][-1], samples["plain"][-1]
                        print(
                            f"    round {number + 1 - WARMUP}, write {write:6.1f} ms,"
                            f" plain {plain_ms:6.1f} ms = {write / plain_ms:.2f}x  ({load_average()})",
                            flush=True,
                        )
            plan = explain(conn)
    except SanityError as exc:
        print(f"\nsanity check failed: {exc}", file=sys.stderr)
        return 1
    finally:
        if not args.keep:
            drop_database(args.admin_url, BENCH_DB)

    print()
    for name, values in samples.items():
        print(f"  {name:<6} {spread(values)} ms")
    print()
    print("plan of the tick's selection (1M bookings, 1,000 due):")
    print(plan)
    failed = "Seq Scan on bookings" in plan or "bookings_confirmed_starts_at_idx" not in plan
    if failed:
        print("SANITY: the selection does not use bookings_confirmed_starts_at_idx")
    print()
    print(
        f"  the tick's floor (its writes by plain SQL, new connection): {median(samples['floor']):.1f} ms"
        f" = {median(samples['floor']) / median(samples['sweep']):.2f}x the sweep; tick / floor"
        f" {median(samples['tick']) / median(samples['floor']):.2f}x"
    )
    for value, base, label, base_label, target in (
        ("tick", "sweep", "reminder cron tick, 1M bookings, 1,000 due,", "the sweep before the outbox", 0.1),
        (
            "write",
            "plain",
            "reminder messages written (write_event_messages),",
            "the same rows by plain SQL",
            1.5,
        ),
    ):
        rounds = [v / b for v, b in zip(samples[value], samples[base], strict=True)]
        print(
            ratio_line(
                label, median(samples[value]), base_label, median(samples[base]), target, "ms", at_least=False
            ),
            f"[per round: {spread(rounds, 2)},"
            f" quartiles {percentile(rounds, 0.25):.2f}-{percentile(rounds, 0.75):.2f}]",
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
