"""Inbox queries: what the inbox screen asks for, as a staff member under RLS, on a large database.

    .venv/bin/python bench/inbox_queries.py ADMIN_URL [--iterations 200] [--keep]

ADMIN_URL is a superuser URL of the test cluster (make bench passes it). The benchmark clones
the migrated template into `careops_bench_inbox` and seeds, set-based with triggers off, 50
workspaces of 2,000 contacts each (100,000 conversations, one in five with unread messages) and
5 messages per conversation (500,000 messages). Then, as a staff member of workspace 1 (role
`authenticated` with the member's claims, as PostgREST runs it), with the filter supabase-js sends:

    latest 50     conversations of the workspace by last activity, 50 rows
    thread        the latest 50 messages of one conversation
    unread total  sum of unread_count over the workspace's conversations with unread messages

Each query is timed `--iterations` times (median, p95) with the planner's choice, and again
with index and bitmap scans disabled in the same run (the baseline: what the query costs without its
index). The plan of each is printed; the run fails (exit 1) if a query reads conversations or
messages sequentially with indexes enabled.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import psycopg
from harness import clone_template, drop_database, median, p95

BENCH_DB = "careops_bench_inbox"
WORKSPACES = 50
CONTACTS = 2000
MESSAGES_PER_CONVERSATION = 5

QUERIES = {
    "latest 50": (
        "select * from public.conversations where workspace_id = %(ws)s"
        " order by last_message_at desc nulls last limit 50"
    ),
    "thread": (
        "select * from public.messages where workspace_id = %(ws)s and conversation_id = %(conversation)s"
        " order by created_at desc limit 50"
    ),
    "unread total": (
        "select coalesce(sum(unread_count), 0) from public.conversations"
        " where workspace_id = %(ws)s and unread_count > 0"
    ),
}
BASELINE_SETTINGS = (
    "set local enable_indexscan = off; set local enable_indexonlyscan = off;"
    " set local enable_bitmapscan = off;"
)


def log(message: str) -> None:
    print(f"==> {message}", flush=True)


def seed(conn: psycopg.Connection) -> None:
    conn.execute("set session_replication_role = replica")  # seeding only: no triggers
    conn.execute(
        f"""
        insert into auth.users (instance_id, id, aud, role, email, raw_app_meta_data, raw_user_meta_data,
                                created_at, updated_at)
        select '00000000-0000-0000-0000-000000000000', gen_random_uuid(), 'authenticated', 'authenticated',
               format('inbox-%s-%s@example.test', kind, n), '{{}}', '{{}}', now(), now()
        from generate_series(1, {WORKSPACES}) as n cross join (values ('owner'), ('staff')) as k (kind);
        insert into public.profiles (id, email, full_name)
        select u.id, u.email, u.email from auth.users as u where u.email like 'inbox-%'
        on conflict (id) do nothing;
        insert into public.workspaces (name, slug, timezone, status, created_by)
        select 'Inbox ' || n, 'inbox-ws-' || n, 'UTC', 'active', u.id
        from generate_series(1, {WORKSPACES}) as n
        inner join auth.users as u on u.email = format('inbox-owner-%s@example.test', n);
        insert into public.workspace_members (workspace_id, user_id, role)
        select w.id, u.id, k.kind
        from public.workspaces as w
        cross join (values ('owner'), ('staff')) as k (kind)
        inner join auth.users as u
            on u.email = format('inbox-%s-%s@example.test', k.kind, substr(w.slug, 10));
        insert into public.contacts (workspace_id, name, email)
        select w.id, 'Customer ' || c, format('c%s@%s.example.test', c, w.slug)
        from public.workspaces as w cross join generate_series(1, {CONTACTS}) as c;
        insert into public.conversations (workspace_id, contact_id, unread_count, last_message_at)
        select c.workspace_id, c.id,
               case when abs(hashtext(c.id::text)) % 5 = 0 then 1 + abs(hashtext(c.email)) % 4 else 0 end,
               now() - (abs(hashtext(c.id::text)) % 100000) * interval '1 minute'
        from public.contacts as c;
        insert into public.messages (workspace_id, conversation_id, direction, channel, kind, body, recipient,
                                     status, idempotency_key, created_at)
        select v.workspace_id, v.id, 'inbound', 'email', 'manual', 'Hello, is Tuesday possible?',
               'someone@example.test', 'received', format('bench:%s:%s', v.id, m),
               v.last_message_at - m * interval '1 hour'
        from public.conversations as v cross join generate_series(0, {MESSAGES_PER_CONVERSATION - 1}) as m;
        """
    )
    conn.execute("set session_replication_role = origin")
    conn.execute("vacuum (analyze) public.conversations, public.messages, public.contacts")


def timed(
    conn: psycopg.Connection, claims: str, query: str, params: dict[str, object], baseline: bool, n: int
) -> list[float]:
    samples = []
    for _ in range(n):
        with conn.transaction():
            conn.execute(
                "select set_config('role', 'authenticated', true),"
                " set_config('request.jwt.claims', %s, true)",
                [claims],
            )
            if baseline:
                conn.execute(BASELINE_SETTINGS)
            started = time.perf_counter()
            conn.execute(query, params).fetchall()
            samples.append((time.perf_counter() - started) * 1000)
    return samples


def plan_of(
    conn: psycopg.Connection, claims: str, query: str, params: dict[str, object], baseline: bool = False
) -> str:
    with conn.transaction():
        conn.execute(
            "select set_config('role', 'authenticated', true), set_config('request.jwt.claims', %s, true)",
            [claims],
        )
        if baseline:
            conn.execute(BASELINE_SETTINGS)
        rows = conn.execute("explain (analyze, buffers, costs off) " + query, params).fetchall()
    return "\n".join(row[0] for row in rows)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("admin_url")
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)

    url = clone_template(args.admin_url, BENCH_DB)
    failed = False
    try:
        # No prepared statements: a cached plan would ignore the baseline's planner settings.
        with psycopg.connect(url, autocommit=True, prepare_threshold=None) as conn:
            started = time.perf_counter()
            seed(conn)
            counts = conn.execute(
                "select (select count(*) from public.conversations), (select count(*) from public.messages)"
            ).fetchone()
            log(
                f"seeded {counts[0]:,} conversations and {counts[1]:,} messages"
                f" in {time.perf_counter() - started:.1f} s"
            )
            ws, staff_id, conversation = conn.execute(
                "select w.id, m.user_id, (select v.id from public.conversations v where v.workspace_id = w.id"
                " order by v.last_message_at desc limit 1)"
                " from public.workspaces w join public.workspace_members m on m.workspace_id = w.id"
                " where w.slug = 'inbox-ws-1' and m.role = 'staff'"
            ).fetchone()
            claims = json.dumps({"sub": str(staff_id), "role": "authenticated", "aud": "authenticated"})
            params = {"ws": ws, "conversation": conversation}
            print(
                "\n| query | median (ms) | p95 (ms) | no index: median (ms) | ratio |"
                "\n| --- | --- | --- | --- | --- |"
            )
            plans = {}
            for name, query in QUERIES.items():
                timed(conn, claims, query, params, False, 10)  # warm-up
                indexed = timed(conn, claims, query, params, False, args.iterations)
                baseline = timed(conn, claims, query, params, True, max(10, args.iterations // 10))
                ratio = median(indexed) / median(baseline)
                print(
                    f"| {name} | {median(indexed):.3f} | {p95(indexed):.3f} |"
                    f" {median(baseline):.3f} | {ratio:.3f}x |"
                )
                plans[name] = plan_of(conn, claims, query, params)
                plans[f"{name}, no index"] = plan_of(conn, claims, query, params, baseline=True)
            for name, plan in plans.items():
                print(f"\n-- {name}\n{plan}")
                if "no index" not in name and (
                    "Seq Scan on conversations" in plan or "Seq Scan on messages" in plan
                ):
                    print(f"FAIL: {name} reads a whole table", file=sys.stderr)
                    failed = True
    finally:
        if not args.keep:
            drop_database(args.admin_url, BENCH_DB)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
