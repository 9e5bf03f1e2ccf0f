"""Acting as a browser user exactly as PostgREST does, and creating users as GoTrue does."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import jwt
import psycopg
from psycopg import sql

DEFAULT_JWT_SECRET = "super-secret-jwt-token-with-at-least-32-characters-long"


@dataclass(frozen=True)
class User:
    id: uuid.UUID
    email: str
    metadata: dict[str, Any] = field(default_factory=dict)

    def claims(self) -> dict[str, Any]:
        now = int(time.time())
        return {
            "aud": "authenticated",
            "exp": now + 3600,
            "iat": now,
            "iss": "http://127.0.0.1:54321/auth/v1",
            "sub": str(self.id),
            "email": self.email,
            "phone": "",
            "role": "authenticated",
            "aal": "aal1",
            "session_id": str(uuid.uuid4()),
            "is_anonymous": False,
            "app_metadata": {"provider": "email", "providers": ["email"]},
            "user_metadata": self.metadata,
        }


ANON_CLAIMS: dict[str, Any] = {"role": "anon", "iss": "supabase"}
SERVICE_CLAIMS: dict[str, Any] = {"role": "service_role", "iss": "supabase"}


def mint_jwt(claims: dict[str, Any], secret: str = DEFAULT_JWT_SECRET) -> str:
    """A Supabase-shaped access token (HS256, as the legacy JWT secret signs them)."""
    return jwt.encode(claims, secret, algorithm="HS256")


def create_user(conn: psycopg.Connection, email: str | None = None, full_name: str | None = None) -> User:
    """Insert into auth.users the row GoTrue writes on sign-up (triggers fire as they would)."""
    user_id = uuid.uuid4()
    email = email or f"user-{user_id.hex[:12]}@example.test"
    metadata = {"full_name": full_name or email.split("@")[0]}
    conn.execute(
        """
        insert into auth.users
            (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
             raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
        values ('00000000-0000-0000-0000-000000000000', %s, 'authenticated', 'authenticated',
                %s, '', now(), %s, %s, now(), now())
        """,
        [
            user_id,
            email,
            json.dumps({"provider": "email", "providers": ["email"]}),
            json.dumps(metadata),
        ],
    )
    return User(user_id, email, metadata)


class Actor:
    """Who a request comes from: a database role and the JWT claims PostgREST would set."""

    def __init__(self, role: str, claims: dict[str, Any], label: str) -> None:
        self.role = role
        self.claims = claims
        self.label = label

    @classmethod
    def anon(cls) -> Actor:
        return cls("anon", ANON_CLAIMS, "anon")

    @classmethod
    def service(cls) -> Actor:
        return cls("service_role", SERVICE_CLAIMS, "service_role")

    @classmethod
    def user(cls, user: User, label: str | None = None) -> Actor:
        return cls("authenticated", user.claims(), label or user.email)

    def __repr__(self) -> str:
        return f"Actor({self.label})"


@contextmanager
def acting_as(conn: psycopg.Connection, actor: Actor) -> Iterator[psycopg.Connection]:
    """Run the block as PostgREST runs a request: `set local role` plus request.jwt.claims.

    The block runs in a savepoint; an error rolls it back (role and claims included)
    and propagates, so the surrounding test transaction stays usable.
    """
    with conn.transaction():
        conn.execute("select set_config('request.jwt.claims', %s, true)", [json.dumps(actor.claims)])
        conn.execute(sql.SQL("set local role {}").format(sql.Identifier(actor.role)))
        yield conn
        conn.execute("reset role")
        conn.execute("select set_config('request.jwt.claims', '', true)")


def run_as(
    conn: psycopg.Connection, actor: Actor, query: str | sql.Composable, params: Sequence[Any] = ()
) -> list[tuple[Any, ...]]:
    """One statement as `actor`; returns its rows (empty for statements without a result)."""
    with acting_as(conn, actor):
        cur = conn.execute(query, params)
        return cur.fetchall() if cur.description else []


def error_of(
    conn: psycopg.Connection, actor: Actor, query: str | sql.Composable, params: Sequence[Any] = ()
) -> psycopg.Error | None:
    """The error a statement raises as `actor`, or None when it succeeds (rolled back anyway)."""
    try:
        with conn.transaction(), acting_as(conn, actor):
            conn.execute(query, params)
            raise _Succeeded
    except _Succeeded:
        return None
    except psycopg.Error as exc:
        return exc


class _Succeeded(Exception):  # noqa: N818 (control flow, not an error)
    pass


# The RPCs whose changes the customer hears about (message_events jobs, the outbox).
EVENT_RPCS = frozenset(
    {
        "book_appointment",
        "cancel_booking",
        "reschedule_booking",
        "confirm_booking",
        "cancel_workspace_booking",
        "reschedule_workspace_booking",
    }
)


def rpc(conn: psycopg.Connection, actor: Actor, function: str, **params: Any) -> list[tuple[Any, ...]]:
    """Call a public RPC with named parameters, as supabase-js `.rpc(function, params)` does.

    The worker keeps up: after an RPC of EVENT_RPCS, the messages it set off are written
    (write_events), as the worker does moments after the commit. A test about that moment
    calls run_as itself."""
    query = sql.SQL("select * from public.{}({})").format(
        sql.Identifier(function),
        sql.SQL(", ").join(
            sql.SQL("{} => {}").format(sql.Identifier(name), sql.Placeholder()) for name in params
        ),
    )
    rows = run_as(conn, actor, query, list(params.values()))
    if function in EVENT_RPCS:
        write_events(conn)
    return rows


def send_due_reminders(conn: psycopg.Connection) -> int:
    """The reminder tick (private.send_due_reminders), then the worker's part: how many bookings
    it reminded."""
    reminded = conn.execute("select private.send_due_reminders()").fetchone()
    write_events(conn)
    return int(reminded[0]) if reminded else 0


def rpc_error(conn: psycopg.Connection, actor: Actor, function: str, **params: Any) -> str | None:
    """The stable error code an RPC fails with (its message), or None when it succeeds."""
    try:
        with conn.transaction():
            rpc(conn, actor, function, **params)
            raise _Succeeded
    except _Succeeded:
        return None
    except psycopg.Error as exc:
        return exc.diag.message_primary


# --- the job queues --------------------------------------------------------------------

# Every queue jobs are written to: `jobs`, and `events` for the outbox (private.job_queue).
JOB_QUEUES = ("pgmq.q_jobs", "pgmq.q_events")


def queued_jobs(conn: psycopg.Connection, containing: str | None = None) -> int:
    """Jobs waiting in every job queue; with `containing`, only those whose JSON has that text."""
    return sum(
        conn.execute(
            sql.SQL("select count(*) from {} where {}::text is null or strpos(message::text, {}) > 0").format(
                sql.SQL(queue), sql.Literal(containing), sql.Literal(containing)
            )
        ).fetchone()[0]
        for queue in JOB_QUEUES
    )


# --- the outbox's worker side, run now ---------------------------------------------------

WRITE_EVENTS_SQL = """
    with jobs as (
        delete from pgmq.q_events as q
        returning q.msg_id, q.message
    )
    select private.write_event_messages(coalesce(jsonb_agg(e.event order by j.msg_id, e.ordinal), '[]'))
    from jobs as j
    cross join lateral jsonb_array_elements(j.message -> 'payload' -> 'events')
        with ordinality as e (event, ordinal)
"""


def fire_deferred_triggers(conn: psycopg.Connection) -> None:
    """Inside an open transaction: run the deferred triggers now, as its commit would (a new
    contact's event)."""
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        conn.execute("set constraints all immediate")
        conn.execute("set constraints all deferred")


def write_events(conn: psycopg.Connection) -> int:
    """What the worker does with message_events jobs, now: the messages booking and contact
    changes asked for are written (private.write_event_messages) and the jobs removed. Runs as
    the connection's session user, in its current transaction (deferred triggers of an open
    transaction fire first)."""
    fire_deferred_triggers(conn)
    row = conn.execute(WRITE_EVENTS_SQL).fetchone()
    return int(row[0]) if row else 0


# --- real concurrency: each request on its own connection ----------------------------------

Call = Callable[[psycopg.Connection], Any]


def call_as(conn: psycopg.Connection, actor: Actor, call: Call) -> Any:
    """Run `call` as `actor` inside the connection's open transaction (the caller commits)."""
    # Open the request's transaction first, so acting_as nests a savepoint in it
    # instead of committing on exit.
    conn.execute("select 1")
    with acting_as(conn, actor):
        return call(conn)


def in_transaction(db_url: str, actor: Actor, call: Call) -> Any:
    """One request on its own connection: begin, act as `actor`, call, commit.

    Returns the call's result, or the stable error code (message) it failed with.
    """
    with psycopg.connect(db_url) as conn:
        try:
            result = call_as(conn, actor, call)
        except psycopg.Error as exc:
            conn.rollback()
            return exc.diag.message_primary
        conn.commit()
        return result


def wait_until_blocked(monitor: psycopg.Connection, application_name: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        waiting = monitor.execute(
            "select count(*) from pg_stat_activity where application_name = %s and wait_event_type = 'Lock'",
            [application_name],
        ).fetchone()[0]
        if waiting:
            return
        time.sleep(0.02)
    raise AssertionError(f"{application_name} never blocked on a lock")


def race_behind_lock(
    db_url: str, monitor: psycopg.Connection, first: tuple[Actor, Call], second: tuple[Actor, Call]
) -> tuple[Any, Any]:
    """A deterministic race: `first` runs and keeps its transaction open; `second` starts on
    another connection and must block on a lock `first` holds; then `first` commits.

    Returns both results (the second as its error code when it fails). Fails if the second
    request never blocks, so a test cannot pass without the contention it claims to test.
    """
    name = f"race-{uuid.uuid4().hex[:8]}"
    separator = "&" if "?" in db_url else "?"
    with psycopg.connect(db_url) as first_conn:
        first_result = call_as(first_conn, *first)
        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(in_transaction, f"{db_url}{separator}application_name={name}", *second)
            try:
                wait_until_blocked(monitor, name)
            finally:
                first_conn.commit()
            second_result = pending.result(timeout=10)
    return first_result, second_result
