"""Invitation and membership flows end to end, including real concurrent connections."""

from __future__ import annotations

import secrets
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest

from tests.support import (
    Actor,
    User,
    create_user,
    in_transaction,
    race_behind_lock,
    rpc,
    rpc_error,
    run_as,
)


def new_workspace(conn: psycopg.Connection, owner: User) -> uuid.UUID:
    slug = f"inv-{secrets.token_hex(5)}"
    return rpc(conn, Actor.user(owner), "create_workspace", p_name="Clinic", p_slug=slug, p_timezone="UTC")[
        0
    ][0]


def invite(
    conn: psycopg.Connection, owner: User, workspace_id: uuid.UUID, email: str, role: str = "staff"
) -> str:
    rows = rpc(
        conn,
        Actor.user(owner),
        "invite_member",
        p_workspace_id=workspace_id,
        p_email=email,
        p_role=role,
    )
    return rows[0][3]


def membership(conn: psycopg.Connection, workspace_id: uuid.UUID, user: User) -> str | None:
    row = conn.execute(
        "select role from public.workspace_members where workspace_id = %s and user_id = %s",
        [workspace_id, user.id],
    ).fetchone()
    return row[0] if row else None


def test_owner_invites_and_staff_joins(conn: psycopg.Connection) -> None:
    owner, guest = create_user(conn), create_user(conn, email="Guest.Person@Example.test")
    workspace_id = new_workspace(conn, owner)
    token = invite(conn, owner, workspace_id, " guest.person@example.TEST ")
    stored = conn.execute(
        "select email, token_hash = private.token_hash(%s), token_hash <> convert_to(%s, 'UTF8')"
        " from public.invitations where workspace_id = %s",
        [token, token, workspace_id],
    ).fetchone()
    assert stored == ("guest.person@example.test", True, True)
    invitation_id = conn.execute(
        "select id from public.invitations where workspace_id = %s", [workspace_id]
    ).fetchone()[0]
    job = conn.execute(
        "select message from pgmq.q_jobs where message ->> 'kind' = 'invitation_created'"
        " and message -> 'payload' ->> 'invitation_id' = %s",
        [str(invitation_id)],
    ).fetchone()[0]
    # No secret in the queue: the worker rebuilds the token through private.invitation_delivery.
    assert job["payload"] == {"invitation_id": str(invitation_id)}

    joined = rpc(conn, Actor.user(guest), "accept_invitation", p_token=token)
    assert joined[0][:3] == (workspace_id, guest.id, "staff")
    assert membership(conn, workspace_id, guest) == "staff"


def test_expired_invitation_is_refused(conn: psycopg.Connection) -> None:
    owner, guest = create_user(conn), create_user(conn)
    workspace_id = new_workspace(conn, owner)
    token = invite(conn, owner, workspace_id, guest.email)
    conn.execute(
        "update public.invitations set expires_at = now() - interval '1 second' where workspace_id = %s",
        [workspace_id],
    )
    assert rpc_error(conn, Actor.user(guest), "accept_invitation", p_token=token) == ("invitation_expired")
    assert membership(conn, workspace_id, guest) is None


def test_reused_invitation_is_refused_for_someone_else_and_idempotent_for_its_user(
    conn: psycopg.Connection,
) -> None:
    owner = create_user(conn)
    guest = create_user(conn, email="shared@example.test")
    workspace_id = new_workspace(conn, owner)
    token = invite(conn, owner, workspace_id, guest.email)
    first = rpc(conn, Actor.user(guest), "accept_invitation", p_token=token)
    again = rpc(conn, Actor.user(guest), "accept_invitation", p_token=token)
    assert first == again
    # The address changes hands (say the account was deleted and re-created).
    conn.execute("update auth.users set email = 'old@example.test' where id = %s", [guest.id])
    successor = create_user(conn, email="shared@example.test")
    assert rpc_error(conn, Actor.user(successor), "accept_invitation", p_token=token) == ("invitation_used")


def test_wrong_user_cannot_accept(conn: psycopg.Connection) -> None:
    owner, guest, intruder = create_user(conn), create_user(conn), create_user(conn)
    workspace_id = new_workspace(conn, owner)
    token = invite(conn, owner, workspace_id, guest.email)
    assert rpc_error(conn, Actor.user(intruder), "accept_invitation", p_token=token) == (
        "invitation_wrong_user"
    )
    assert membership(conn, workspace_id, intruder) is None
    # The rightful user still can.
    assert rpc_error(conn, Actor.user(guest), "accept_invitation", p_token=token) is None


def test_unknown_revoked_and_anonymous_tokens(conn: psycopg.Connection) -> None:
    owner, guest = create_user(conn), create_user(conn)
    workspace_id = new_workspace(conn, owner)
    token = invite(conn, owner, workspace_id, guest.email)
    assert rpc_error(conn, Actor.user(guest), "accept_invitation", p_token="nope") == ("invitation_not_found")
    invitation_id = conn.execute(
        "select id from public.invitations where workspace_id = %s", [workspace_id]
    ).fetchone()[0]
    rpc(conn, Actor.user(owner), "revoke_invitation", p_invitation_id=invitation_id)
    assert rpc_error(conn, Actor.user(guest), "accept_invitation", p_token=token) == ("invitation_revoked")
    # anon may not even call it: PostgREST answers 401 from the missing EXECUTE grant.
    error = rpc_error(conn, Actor.anon(), "accept_invitation", p_token=token)
    assert error is not None
    assert error.startswith("permission denied for function accept_invitation")


def test_reinviting_revokes_the_previous_token(conn: psycopg.Connection) -> None:
    owner, guest = create_user(conn), create_user(conn)
    workspace_id = new_workspace(conn, owner)
    first = invite(conn, owner, workspace_id, guest.email)
    second = invite(conn, owner, workspace_id, guest.email, role="owner")
    assert rpc_error(conn, Actor.user(guest), "accept_invitation", p_token=first) == ("invitation_revoked")
    rpc(conn, Actor.user(guest), "accept_invitation", p_token=second)
    assert membership(conn, workspace_id, guest) == "owner"


def test_staff_cannot_invite_and_owners_cannot_invite_members(conn: psycopg.Connection) -> None:
    owner, staff = create_user(conn), create_user(conn)
    workspace_id = new_workspace(conn, owner)
    rpc(
        conn,
        Actor.user(staff),
        "accept_invitation",
        p_token=invite(conn, owner, workspace_id, staff.email),
    )
    assert rpc_error(
        conn,
        Actor.user(staff),
        "invite_member",
        p_workspace_id=workspace_id,
        p_email="x@example.test",
    ) == ("forbidden")
    assert rpc_error(
        conn, Actor.user(owner), "invite_member", p_workspace_id=workspace_id, p_email=staff.email
    ) == ("already_member")


def test_last_owner_cannot_leave_or_be_demoted(conn: psycopg.Connection) -> None:
    owner = create_user(conn)
    workspace_id = new_workspace(conn, owner)
    actor = Actor.user(owner)
    for statement in (
        "update public.workspace_members set role = 'staff' where workspace_id = %s",
        "delete from public.workspace_members where workspace_id = %s",
    ):
        with pytest.raises(psycopg.Error) as raised:
            run_as(conn, actor, statement, [workspace_id])
        assert raised.value.diag.message_primary == "last_owner"
        assert raised.value.sqlstate == "PT409"
    assert membership(conn, workspace_id, owner) == "owner"


# --- concurrency: committed data, separate connections --------------------------------------


class Committed:
    """Users and workspaces created with autocommit, removed again at the end of the test."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn
        self.users: list[User] = []
        self.workspaces: list[uuid.UUID] = []

    def user(self, email: str | None = None) -> User:
        user = create_user(self.conn, email=email)
        self.users.append(user)
        return user

    def workspace(self, owner: User) -> uuid.UUID:
        workspace_id = new_workspace(self.conn, owner)
        self.workspaces.append(workspace_id)
        return workspace_id

    def cleanup(self) -> None:
        self.conn.execute(
            "delete from public.workspaces where id = any(%s) or created_by = any(%s)",
            [self.workspaces, [u.id for u in self.users]],
        )
        self.conn.execute("delete from auth.users where id = any(%s)", [[u.id for u in self.users]])


@pytest.fixture
def committed(autocommit_conn: psycopg.Connection) -> Iterator[Committed]:
    data = Committed(autocommit_conn)
    yield data
    data.cleanup()


def accept_sql(token: str) -> Callable[[psycopg.Connection], Any]:
    def call(conn: psycopg.Connection) -> Any:
        return conn.execute(
            "select workspace_id, user_id, role from public.accept_invitation(p_token => %s)",
            [token],
        ).fetchone()

    return call


def test_concurrent_accepts_of_one_token_make_one_membership(
    db_url: str, committed: Committed, autocommit_conn: psycopg.Connection
) -> None:
    owner, guest = committed.user(), committed.user()
    workspace_id = committed.workspace(owner)
    token = invite(autocommit_conn, owner, workspace_id, guest.email)
    actor = Actor.user(guest)

    # The first request holds the invitation row; the second must queue behind it
    # on the row lock, then see the committed acceptance and succeed idempotently.
    first_result, second_result = race_behind_lock(
        db_url, autocommit_conn, (actor, accept_sql(token)), (actor, accept_sql(token))
    )
    assert first_result == second_result == (workspace_id, guest.id, "staff")
    counts = autocommit_conn.execute(
        "select (select count(*) from public.workspace_members where workspace_id = %s and user_id = %s),"
        " (select count(*) from public.invitations where workspace_id = %s and accepted_at is not null)",
        [workspace_id, guest.id, workspace_id],
    ).fetchone()
    assert counts == (1, 1)


def test_many_concurrent_accepts_all_agree(
    db_url: str, committed: Committed, autocommit_conn: psycopg.Connection
) -> None:
    owner, guest = committed.user(), committed.user()
    workspace_id = committed.workspace(owner)
    token = invite(autocommit_conn, owner, workspace_id, guest.email)
    start = threading.Barrier(6)

    def accept() -> Any:
        start.wait()
        return in_transaction(db_url, Actor.user(guest), accept_sql(token))

    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda _: accept(), range(6)))
    assert set(results) == {(workspace_id, guest.id, "staff")}
    assert membership(autocommit_conn, workspace_id, guest) == "staff"


def test_two_owners_demoting_each_other_keep_one_owner(
    db_url: str, committed: Committed, autocommit_conn: psycopg.Connection
) -> None:
    first_owner, second_owner = committed.user(), committed.user()
    workspace_id = committed.workspace(first_owner)
    token = invite(autocommit_conn, first_owner, workspace_id, second_owner.email, role="owner")
    rpc(autocommit_conn, Actor.user(second_owner), "accept_invitation", p_token=token)

    def demote(user: User) -> Callable[[psycopg.Connection], Any]:
        def call(conn: psycopg.Connection) -> Any:
            return conn.execute(
                "update public.workspace_members set role = 'staff' where workspace_id = %s and user_id = %s",
                [workspace_id, user.id],
            ).rowcount

        return call

    # first_owner demotes second_owner and holds the lock; second_owner then tries
    # to demote first_owner and must wait, then fail: nobody would be left.
    first_result, second_result = race_behind_lock(
        db_url,
        autocommit_conn,
        (Actor.user(first_owner), demote(second_owner)),
        (Actor.user(second_owner), demote(first_owner)),
    )
    assert (first_result, second_result) == (1, "last_owner")
    roles = dict(
        autocommit_conn.execute(
            "select user_id, role from public.workspace_members where workspace_id = %s",
            [workspace_id],
        ).fetchall()
    )
    assert roles == {first_owner.id: "owner", second_owner.id: "staff"}


def test_concurrent_create_workspace_with_one_slug(
    db_url: str, committed: Committed, autocommit_conn: psycopg.Connection
) -> None:
    users = [committed.user() for _ in range(4)]
    slug = f"race-{secrets.token_hex(4)}"
    start = threading.Barrier(len(users))

    def create(user: User) -> Any:
        def call(conn: psycopg.Connection) -> Any:
            start.wait()
            return conn.execute(
                "select id from public.create_workspace(p_name => 'Race', p_slug => %s, p_timezone => 'UTC')",
                [slug],
            ).fetchone()[0]

        return in_transaction(db_url, Actor.user(user), call)

    with ThreadPoolExecutor(len(users)) as pool:
        results = list(pool.map(create, users))
    winners = [r for r in results if isinstance(r, uuid.UUID)]
    committed.workspaces.extend(winners)
    assert len(winners) == 1
    assert sorted(r for r in results if not isinstance(r, uuid.UUID)) == ["slug_taken"] * 3
    owners = autocommit_conn.execute(
        "select count(*) from public.workspace_members where workspace_id = %s and role = 'owner'",
        [winners[0]],
    ).fetchone()[0]
    assert owners == 1


def test_deleting_an_account_keeps_the_workspace_it_created(conn: psycopg.Connection) -> None:
    creator, successor = create_user(conn), create_user(conn)
    workspace_id = new_workspace(conn, creator)
    token = invite(conn, creator, workspace_id, successor.email, role="owner")
    rpc(conn, Actor.user(successor), "accept_invitation", p_token=token)
    conn.execute("delete from auth.users where id = %s", [creator.id])
    remaining = conn.execute(
        "select w.created_by, array_agg(m.user_id) from public.workspaces w"
        " join public.workspace_members m on m.workspace_id = w.id where w.id = %s group by w.created_by",
        [workspace_id],
    ).fetchone()
    assert remaining == (None, [successor.id])


def test_the_last_owner_cannot_delete_their_account(conn: psycopg.Connection) -> None:
    owner = create_user(conn)
    workspace_id = new_workspace(conn, owner)
    with pytest.raises(psycopg.Error) as raised, conn.transaction():
        conn.execute("delete from auth.users where id = %s", [owner.id])
    assert raised.value.diag.message_primary == "last_owner"
    assert membership(conn, workspace_id, owner) == "owner"
