"""The large workspace of issue #10's benchmark, loaded set-based (generate_series) in seconds.

`load_large_workspace(conn, workspace_id)` fills one existing workspace with, by default,
100k bookings, 50k contacts (each with its conversation), 500k messages, 20k form
submissions, 1k inventory items and 300 alerts, spread over time the way a busy practice
has them: contacts over two years, bookings from a year ago to two months ahead on a grid
per practitioner (so the exclusion constraint holds), messages over two years.

It runs as the cluster's superuser with `session_replication_role = replica`: the
automation triggers (welcome messages, confirmations, queue jobs) and per-row foreign key
checks are skipped, which is what makes it fast; every row is built to satisfy the
constraints anyway (ids are derived from the row number, md5(kind || n)::uuid, so rows
point at each other without joins). Benchmarks only: never in a migration or a test.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import psycopg


@dataclass(frozen=True)
class Sizes:
    bookings: int = 100_000
    contacts: int = 50_000
    messages: int = 500_000
    form_submissions: int = 20_000
    inventory_items: int = 1_000
    alerts: int = 300


def load_large_workspace(conn: psycopg.Connection, workspace_id: uuid.UUID, sizes: Sizes = Sizes()) -> float:
    """Fill the workspace (its members all become practitioners); returns the seconds it took."""
    started = time.perf_counter()
    params = {
        "w": workspace_id,
        "bookings": sizes.bookings,
        "contacts": sizes.contacts,
        "messages": sizes.messages,
        "forms": sizes.form_submissions,
        "items": sizes.inventory_items,
        "alerts": sizes.alerts,
    }
    conn.execute(
        "insert into public.practitioners (workspace_id, user_id)"
        " select m.workspace_id, m.user_id from public.workspace_members as m where m.workspace_id = %(w)s"
        " on conflict do nothing",
        params,
    )
    conn.execute(
        "insert into public.booking_types (id, workspace_id, name, duration_minutes)"
        " values (md5('bench-type' || %(w)s)::uuid, %(w)s, 'Consultation', 30)",
        params,
    )
    conn.execute(
        "insert into public.intake_forms (id, workspace_id, name, fields)"
        " values (md5('bench-form' || %(w)s)::uuid, %(w)s, 'Intake',"
        ' \'[{"key": "ok", "type": "checkbox", "label": "OK"}]\')',
        params,
    )
    # From here on, no triggers and no per-row foreign key checks (the configuration rows
    # above went through their validation triggers).
    conn.execute("set session_replication_role = replica")
    # Contacts: evenly over the last two years (about 70 a day).
    conn.execute(
        """
        insert into public.contacts (id, workspace_id, name, email, created_at, updated_at)
        select md5('contact' || n)::uuid, %(w)s, 'Contact ' || n, 'contact-' || n || '@example.test',
            now() - (%(contacts)s - n) * (interval '730 days' / %(contacts)s),
            now() - (%(contacts)s - n) * (interval '730 days' / %(contacts)s)
        from generate_series(1, %(contacts)s) as n
        """,
        params,
    )
    # Bookings: practitioner n %% P, each on its own grid from 365 days ago to 60 days ahead.
    # Past ones completed (80 %%), no-show (8 %%) or cancelled; future ones confirmed or cancelled.
    conn.execute(
        """
        with p as (
            select p.id, row_number() over (order by p.id) - 1 as k, count(*) over () as total
            from public.practitioners as p where p.workspace_id = %(w)s
        ),
        b as (
            select n, p.id as practitioner_id,
                now() - interval '365 days'
                    + (n / p.total) * (interval '425 days' / (%(bookings)s / p.total + 1)) as starts_at
            from generate_series(0, %(bookings)s - 1) as n
            inner join p on p.k = n %% p.total
        )
        insert into public.bookings (id, workspace_id, booking_type_id, practitioner_id, contact_id,
            starts_at, ends_at, status, cancelled_at, created_at, updated_at)
        select md5('booking' || b.n)::uuid, %(w)s, md5('bench-type' || %(w)s)::uuid, b.practitioner_id,
            md5('contact' || ((b.n * 7919) %% %(contacts)s + 1))::uuid,
            b.starts_at, b.starts_at + interval '30 minutes', s.status,
            case when s.status = 'cancelled' then least(b.starts_at, now()) end,
            least(b.starts_at - interval '7 days', now()), least(b.starts_at - interval '7 days', now())
        from b
        cross join lateral (
            select case
                when b.starts_at < now() then
                    case
                        when b.n %% 100 < 80 then 'completed'
                        when b.n %% 100 < 88 then 'no_show'
                        else 'cancelled'
                    end
                else case when b.n %% 10 = 0 then 'cancelled' else 'confirmed' end
            end as status
        ) as s
        """,
        params,
    )
    # A conversation per contact; 1 in 20 has unread messages.
    conn.execute(
        """
        insert into public.conversations (id, workspace_id, contact_id, unread_count, last_message_at)
        select md5('conversation' || n)::uuid, %(w)s, md5('contact' || n)::uuid,
            case when n %% 20 = 0 then 1 + n %% 3 else 0 end,
            now() - (%(contacts)s - n) * (interval '730 days' / %(contacts)s) + interval '1 hour'
        from generate_series(1, %(contacts)s) as n
        """,
        params,
    )
    # Messages: over two years, 9 in 10 outbound (sent or delivered), 1 in 10 inbound.
    conn.execute(
        """
        insert into public.messages (id, workspace_id, conversation_id, direction, channel, kind, body,
            recipient,
            status, provider, attempts, idempotency_key, created_at, sent_at, updated_at)
        select md5('message' || n)::uuid, %(w)s, md5('conversation' || (n %% %(contacts)s + 1))::uuid,
            case when n %% 10 = 0 then 'inbound' else 'outbound' end,
            case when n %% 4 = 0 then 'sms' else 'email' end,
            case when n %% 10 = 0 then 'manual' else 'automated' end,
            'Message ' || n, 'contact-' || (n %% %(contacts)s + 1) || '@example.test',
            case when n %% 10 = 0 then 'received' when n %% 3 = 0 then 'delivered' else 'sent' end,
            case when n %% 10 = 0 then null else 'console' end,
            case when n %% 10 = 0 then 0 else 1 end,
            'bench-' || n, t.at, case when n %% 10 = 0 then null else t.at end, t.at
        from generate_series(1, %(messages)s) as n
        cross join lateral (
            select now() - (%(messages)s - n) * (interval '730 days' / %(messages)s) as at
        ) as t
        """,
        params,
    )
    # Form submissions for the first bookings (one form each): completed unless recent.
    conn.execute(
        """
        insert into public.form_submissions (workspace_id, form_id, booking_id, contact_id, token_hash,
            status,
            sent_at, overdue_at, completed_at, answers, created_at, updated_at)
        select b.workspace_id, md5('bench-form' || %(w)s)::uuid, b.id, b.contact_id,
            sha256(convert_to('bench-form/' || b.id, 'UTF8')), s.status, b.created_at,
            case when s.status = 'overdue' then b.created_at + interval '48 hours' end,
            case when s.status = 'completed' then b.created_at + interval '1 day' end,
            case when s.status = 'completed' then '{"ok": true}'::jsonb end,
            b.created_at, b.created_at
        from (
            select b.*, row_number() over (order by b.starts_at desc) as r
            from public.bookings as b
            where b.workspace_id = %(w)s and b.starts_at < now() + interval '7 days'
            order by b.starts_at desc
            limit %(forms)s
        ) as b
        cross join lateral (
            select case
                when b.created_at > now() - interval '48 hours' then 'pending'
                when b.r %% 25 = 0 then 'overdue'
                else 'completed'
            end as status
        ) as s
        """,
        params,
    )
    # Inventory: 1 in 20 items at or below its threshold.
    conn.execute(
        """
        insert into public.inventory_items (workspace_id, name, unit, quantity, low_stock_threshold)
        select %(w)s, 'Item ' || lpad(n::text, 4, '0'), 'units',
            case when n %% 20 = 0 then n %% 7 else 100 + n %% 50 end, 10
        from generate_series(1, %(items)s) as n
        """,
        params,
    )
    # Alerts: a third open, the rest resolved history.
    conn.execute(
        """
        insert into public.alerts (workspace_id, kind, severity, subject_type, subject_id, text, created_at,
            resolved_at)
        select %(w)s, (array['form_overdue', 'low_stock', 'message_failed'])[1 + (n / 3) %% 3], 'warning',
            'thing', md5('alert' || n)::uuid, 'Alert ' || n, now() - n * interval '1 hour',
            case when n %% 3 <> 0 then now() - n * interval '1 hour' + interval '10 minutes' end
        from generate_series(1, %(alerts)s) as n
        """,
        params,
    )
    conn.execute("set session_replication_role = origin")
    conn.commit()
    # What the schedule (careops_fill_dashboard_days, every 10 minutes) has done by the time
    # anyone looks: the closed days counted into private.dashboard_days.
    conn.execute("select private.fill_dashboard_days()")
    conn.commit()
    settle(conn, TABLES)
    return time.perf_counter() - started


TABLES = (
    "public.practitioners",
    "public.contacts",
    "public.bookings",
    "public.conversations",
    "public.messages",
    "public.form_submissions",
    "public.inventory_items",
    "public.alerts",
    "private.dashboard_days",
)


def settle(conn: psycopg.Connection, tables: tuple[str, ...], attempts: int = 5) -> None:
    """vacuum (analyze) until every page is all-visible (index-only scans need the visibility
    map). An autovacuum ANALYZE started by the load holds a snapshot that keeps a first
    vacuum from marking the pages, so it goes again while some are not."""
    conn.autocommit = True
    try:
        for _ in range(attempts):
            conn.execute(f"vacuum (analyze) {', '.join(tables)}")
            row = conn.execute(
                "select count(*) filter (where c.relallvisible < c.relpages) from pg_class as c"
                " where c.oid = any(%s::regclass[])",
                [list(tables)],
            ).fetchone()
            if row is not None and row[0] == 0:
                return
            time.sleep(1)
    finally:
        conn.autocommit = False
