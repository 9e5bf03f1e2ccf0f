"""Issue 12 part A: what an outside security review broke, replayed as PostgREST requests."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest

from tests.support import Actor, User, create_user, queued_jobs, race_behind_lock, rpc, rpc_error, run_as
from tests.test_invitations import Committed, invite, membership, new_workspace

# Mirrors the constants in invite_member (documented in docs/backend.md and docs/errors.md).
MAX_OPEN_PER_WORKSPACE = 100
MAX_PER_INVITER_PER_HOUR = 30


@pytest.fixture
def committed(autocommit_conn: psycopg.Connection) -> Iterator[Committed]:
    data = Committed(autocommit_conn)
    yield data
    data.cleanup()


def add_owner(conn: psycopg.Connection, owner: User, workspace_id: uuid.UUID, newcomer: User) -> None:
    token = invite(conn, owner, workspace_id, newcomer.email, role="owner")
    rpc(conn, Actor.user(newcomer), "accept_invitation", p_token=token)


def invitation_state(conn: psycopg.Connection, token: str) -> tuple[bool, bool]:
    """(revoked, accepted) of the invitation a token belongs to."""
    return conn.execute(
        "select revoked_at is not null, accepted_at is not null from public.invitations"
        " where token_hash = private.token_hash(%s)",
        [token],
    ).fetchone()


# --- A1: pending invitations die with their inviter's rights ---------------------------------


def remove(conn: psycopg.Connection, by: User, workspace_id: uuid.UUID, who: User) -> None:
    run_as(
        conn,
        Actor.user(by),
        "delete from public.workspace_members where workspace_id = %s and user_id = %s",
        [workspace_id, who.id],
    )


def demote(conn: psycopg.Connection, by: User, workspace_id: uuid.UUID, who: User) -> None:
    run_as(
        conn,
        Actor.user(by),
        "update public.workspace_members set role = 'staff' where workspace_id = %s and user_id = %s",
        [workspace_id, who.id],
    )


def delete_account(conn: psycopg.Connection, by: User, workspace_id: uuid.UUID, who: User) -> None:
    conn.execute("delete from auth.users where id = %s", [who.id])


@pytest.mark.parametrize("loses_rights", [remove, demote, delete_account], ids=lambda f: f.__name__)
def test_a_former_owners_pending_invitations_die_with_their_rights(
    conn: psycopg.Connection, loses_rights: Callable[..., None]
) -> None:
    # The review's scenario: owner A invites a second address of theirs as owner
    # (and someone as staff); owner B takes A's rights away; the second address
    # must not get in and remove B.
    owner_a, owner_b = create_user(conn), create_user(conn)
    a_second_address, staff_guest, b_guest = create_user(conn), create_user(conn), create_user(conn)
    workspace_id = new_workspace(conn, owner_a)
    add_owner(conn, owner_a, workspace_id, owner_b)
    owner_token = invite(conn, owner_a, workspace_id, a_second_address.email, role="owner")
    staff_token = invite(conn, owner_a, workspace_id, staff_guest.email)
    b_token = invite(conn, owner_b, workspace_id, b_guest.email)

    loses_rights(conn, owner_b, workspace_id, owner_a)

    assert invitation_state(conn, owner_token) == (True, False)
    assert invitation_state(conn, staff_token) == (True, False)
    for guest, token in ((a_second_address, owner_token), (staff_guest, staff_token)):
        assert rpc_error(conn, Actor.user(guest), "accept_invitation", p_token=token) == "invitation_revoked"
        assert membership(conn, workspace_id, guest) is None
    # B's own invitation is untouched.
    assert invitation_state(conn, b_token) == (False, False)
    assert rpc_error(conn, Actor.user(b_guest), "accept_invitation", p_token=b_token) is None
    assert membership(conn, workspace_id, owner_b) == "owner"


def test_an_invitation_is_not_acceptable_once_its_inviter_is_no_longer_an_owner(
    conn: psycopg.Connection,
) -> None:
    # The backstop behind the revocation triggers: even an invitation still marked
    # open (say it was written before they existed) is refused at acceptance.
    owner_a, owner_b, guest = create_user(conn), create_user(conn), create_user(conn)
    workspace_id = new_workspace(conn, owner_a)
    add_owner(conn, owner_a, workspace_id, owner_b)
    token = invite(conn, owner_a, workspace_id, guest.email, role="owner")
    demote(conn, owner_b, workspace_id, owner_a)
    conn.execute(
        "update public.invitations set revoked_at = null where token_hash = private.token_hash(%s)", [token]
    )

    assert rpc_error(conn, Actor.user(guest), "accept_invitation", p_token=token) == "invitation_revoked"
    assert membership(conn, workspace_id, guest) is None
    # Once A is an owner again, the same invitation works.
    run_as(
        conn,
        Actor.user(owner_b),
        "update public.workspace_members set role = 'owner' where workspace_id = %s and user_id = %s",
        [workspace_id, owner_a.id],
    )
    rpc(conn, Actor.user(guest), "accept_invitation", p_token=token)
    assert membership(conn, workspace_id, guest) == "owner"


def test_removing_a_staff_member_leaves_invitations_alone(conn: psycopg.Connection) -> None:
    owner, staff, guest = create_user(conn), create_user(conn), create_user(conn)
    workspace_id = new_workspace(conn, owner)
    rpc(conn, Actor.user(staff), "accept_invitation", p_token=invite(conn, owner, workspace_id, staff.email))
    token = invite(conn, owner, workspace_id, guest.email)
    remove(conn, owner, workspace_id, staff)
    assert invitation_state(conn, token) == (False, False)


# --- A2: invite_member checks the role under the workspace lock ------------------------------


def test_invite_member_waits_for_a_demotion_and_then_refuses(
    db_url: str, committed: Committed, autocommit_conn: psycopg.Connection
) -> None:
    owner_a, owner_b = committed.user(), committed.user()
    workspace_id = committed.workspace(owner_a)
    add_owner(autocommit_conn, owner_a, workspace_id, owner_b)

    def b_demotes_a(conn: psycopg.Connection) -> Any:
        return conn.execute(
            "update public.workspace_members set role = 'staff' where workspace_id = %s and user_id = %s",
            [workspace_id, owner_a.id],
        ).rowcount

    def a_invites_an_owner(conn: psycopg.Connection) -> Any:
        return conn.execute(
            "select invitation_id from public.invite_member(%s, %s, 'owner')",
            [workspace_id, f"second-{secrets.token_hex(4)}@example.test"],
        ).fetchone()[0]

    # B's demotion holds the workspace lock; A's invitation must queue behind it
    # and then see that A is no longer an owner.
    demoted, invited = race_behind_lock(
        db_url,
        autocommit_conn,
        (Actor.user(owner_b), b_demotes_a),
        (Actor.user(owner_a), a_invites_an_owner),
    )
    assert (demoted, invited) == (1, "forbidden")
    assert (
        autocommit_conn.execute(
            "select count(*) from public.invitations"
            " where workspace_id = %s and invited_by = %s and accepted_at is null",
            [workspace_id, owner_a.id],
        ).fetchone()[0]
        == 0
    )


def test_accepting_waits_for_the_inviters_demotion_and_then_refuses(
    db_url: str, committed: Committed, autocommit_conn: psycopg.Connection
) -> None:
    owner_a, owner_b, guest = committed.user(), committed.user(), committed.user()
    workspace_id = committed.workspace(owner_a)
    add_owner(autocommit_conn, owner_a, workspace_id, owner_b)
    token = invite(autocommit_conn, owner_a, workspace_id, guest.email, role="owner")

    def b_removes_a(conn: psycopg.Connection) -> Any:
        return conn.execute(
            "delete from public.workspace_members where workspace_id = %s and user_id = %s",
            [workspace_id, owner_a.id],
        ).rowcount

    def guest_accepts(conn: psycopg.Connection) -> Any:
        return conn.execute("select role from public.accept_invitation(%s)", [token]).fetchone()[0]

    removed, accepted = race_behind_lock(
        db_url, autocommit_conn, (Actor.user(owner_b), b_removes_a), (Actor.user(guest), guest_accepts)
    )
    assert (removed, accepted) == (1, "invitation_revoked")
    assert membership(autocommit_conn, workspace_id, guest) is None


# --- A3: invitation floods --------------------------------------------------------------------


def open_invitations(conn: psycopg.Connection, workspace_id: uuid.UUID) -> int:
    return conn.execute(
        "select count(*) from public.invitations"
        " where workspace_id = %s and accepted_at is null and revoked_at is null",
        [workspace_id],
    ).fetchone()[0]


def test_one_inviter_sends_at_most_30_invitations_an_hour(conn: psycopg.Connection) -> None:
    owner = create_user(conn)
    first, second = new_workspace(conn, owner), new_workspace(conn, owner)
    for n in range(MAX_PER_INVITER_PER_HOUR):
        invite(conn, owner, first if n % 2 else second, f"flood-{n}@example.test")
    jobs_before = queued_jobs(conn)
    # The cap counts across workspaces: a new workspace does not reset it.
    third = new_workspace(conn, owner)
    for workspace_id in (first, third):
        assert (
            rpc_error(
                conn,
                Actor.user(owner),
                "invite_member",
                p_workspace_id=workspace_id,
                p_email="one@example.test",
            )
            == "invitation_rate_limited"
        )
    assert queued_jobs(conn) == jobs_before
    assert open_invitations(conn, third) == 0
    # Another owner of the same workspace is not affected; an hour later the first may invite again.
    other = create_user(conn)
    conn.execute(
        "insert into public.workspace_members (workspace_id, user_id, role) values (%s, %s, 'owner')",
        [first, other.id],
    )
    assert (
        rpc_error(conn, Actor.user(other), "invite_member", p_workspace_id=first, p_email="two@example.test")
        is None
    )
    conn.execute(
        "update public.invitations set created_at = created_at - interval '61 minutes' where invited_by = %s",
        [owner.id],
    )
    assert (
        rpc_error(conn, Actor.user(owner), "invite_member", p_workspace_id=third, p_email="one@example.test")
        is None
    )


def test_the_hourly_cap_holds_for_concurrent_invitations(
    db_url: str, committed: Committed, autocommit_conn: psycopg.Connection
) -> None:
    owner = committed.user()
    first, second = committed.workspace(owner), committed.workspace(owner)
    for n in range(MAX_PER_INVITER_PER_HOUR - 1):
        invite(autocommit_conn, owner, first, f"burst-{n}@example.test")

    def invites(workspace_id: uuid.UUID) -> Callable[[psycopg.Connection], Any]:
        def call(conn: psycopg.Connection) -> Any:
            return conn.execute(
                "select invitation_id from public.invite_member(%s, %s)",
                [workspace_id, f"last-{secrets.token_hex(4)}@example.test"],
            ).fetchone()[0]

        return call

    # Two workspaces, so no workspace lock orders them: the inviter's own lock must.
    made, refused = race_behind_lock(
        db_url, autocommit_conn, (Actor.user(owner), invites(first)), (Actor.user(owner), invites(second))
    )
    assert isinstance(made, uuid.UUID)
    assert refused == "invitation_rate_limited"
    assert (
        autocommit_conn.execute(
            "select count(*) from public.invitations where invited_by = %s", [owner.id]
        ).fetchone()[0]
        == MAX_PER_INVITER_PER_HOUR
    )


def fill_with_open_invitations(
    conn: psycopg.Connection, workspace_id: uuid.UUID, owner: User, count: int
) -> None:
    """Open invitations made two hours ago (outside the hourly window)."""
    conn.execute(
        "insert into public.invitations"
        " (workspace_id, email, role, token_hash, invited_by, expires_at, created_at)"
        " select %s, 'open-' || n || '@example.test', 'staff', private.token_hash(gen_random_uuid()::text),"
        " %s, now() + interval '5 days', now() - interval '2 hours' from generate_series(1, %s) as n",
        [workspace_id, owner.id, count],
    )


def test_a_workspace_has_at_most_100_open_invitations(conn: psycopg.Connection) -> None:
    owner = create_user(conn)
    workspace_id = new_workspace(conn, owner)
    fill_with_open_invitations(conn, workspace_id, owner, MAX_OPEN_PER_WORKSPACE - 1)
    invite(conn, owner, workspace_id, "last-seat@example.test")
    assert open_invitations(conn, workspace_id) == MAX_OPEN_PER_WORKSPACE

    assert (
        rpc_error(
            conn, Actor.user(owner), "invite_member", p_workspace_id=workspace_id, p_email="x@example.test"
        )
        == "too_many_open_invitations"
    )
    assert open_invitations(conn, workspace_id) == MAX_OPEN_PER_WORKSPACE
    # Re-inviting an address with an open invitation replaces it: allowed at the cap.
    invite(conn, owner, workspace_id, "open-1@example.test", role="owner")
    assert open_invitations(conn, workspace_id) == MAX_OPEN_PER_WORKSPACE
    # Expired invitations are not open.
    conn.execute(
        "update public.invitations set expires_at = now() - interval '1 second'"
        " where workspace_id = %s and email = 'open-2@example.test'",
        [workspace_id],
    )
    assert (
        rpc_error(
            conn, Actor.user(owner), "invite_member", p_workspace_id=workspace_id, p_email="x@example.test"
        )
        is None
    )


# --- A5: users without a profile ---------------------------------------------------------------


def test_the_backfill_creates_missing_profiles(conn: psycopg.Connection) -> None:
    old_user = create_user(conn, full_name="Old Timer")
    dirty_name = create_user(conn, full_name="Clinic\r\nBcc: everyone@example.org")
    conn.execute("delete from public.profiles where id = any(%s)", [[old_user.id, dirty_name.id]])
    assert conn.execute("select private.backfill_profiles()").fetchone()[0] == 2
    profiles = dict(
        conn.execute(
            "select id, full_name from public.profiles where id = any(%s)", [[old_user.id, dirty_name.id]]
        ).fetchall()
    )
    assert profiles == {old_user.id: "Old Timer", dirty_name.id: ""}
    assert conn.execute("select private.backfill_profiles()").fetchone()[0] == 0
    missing = conn.execute(
        "select count(*) from auth.users u"
        " where not exists (select 1 from public.profiles p where p.id = u.id)"
    ).fetchone()[0]
    assert missing == 0


def profileless(conn: psycopg.Connection, user: User) -> None:
    conn.execute("delete from public.profiles where id = %s", [user.id])


def deleted(conn: psycopg.Connection, user: User) -> None:
    conn.execute("delete from auth.users where id = %s", [user.id])


@pytest.mark.parametrize("lose_profile", [profileless, deleted], ids=lambda f: f.__name__)
def test_a_user_without_a_profile_is_not_authenticated_everywhere(
    conn: psycopg.Connection, lose_profile: Callable[[psycopg.Connection, User], None]
) -> None:
    owner, ghost = create_user(conn), create_user(conn)
    workspace_id = new_workspace(conn, owner)
    add_owner(conn, owner, workspace_id, ghost)
    token = invite(conn, owner, workspace_id, ghost.email.replace("@", "+2@"))
    invitation_id = conn.execute(
        "select id from public.invitations where token_hash = private.token_hash(%s)", [token]
    ).fetchone()[0]
    slug = conn.execute("select slug from public.workspaces where id = %s", [workspace_id]).fetchone()[0]
    lose_profile(conn, ghost)
    # The JWT is still valid: PostgREST still sends its claims.
    actor = Actor.user(ghost)
    calls: dict[str, dict[str, Any]] = {
        "create_workspace": {
            "p_name": "Ghost Clinic",
            "p_slug": f"ghost-{secrets.token_hex(4)}",
            "p_timezone": "UTC",
        },
        "invite_member": {"p_workspace_id": workspace_id, "p_email": "friend@example.test"},
        "accept_invitation": {"p_token": token},
        "revoke_invitation": {"p_invitation_id": invitation_id},
        "delete_workspace": {"p_workspace_id": workspace_id, "p_confirm_slug": slug},
    }
    assert {name: rpc_error(conn, actor, name, **params) for name, params in calls.items()} == dict.fromkeys(
        calls, "not_authenticated"
    )
    assert (
        conn.execute("select count(*) from public.workspaces where created_by = %s", [ghost.id]).fetchone()[0]
        == 0
    )


# --- A6: canonical time zones ----------------------------------------------------------------

NON_CANONICAL = [
    "localtime",
    "posixrules",
    "Factory",
    "posix/Europe/Paris",
    "right/Europe/Paris",
    "US/Eastern",
    "GMT+0",
    "Etc/GMT-3",
    "Etc/UTC",
    "EST5EDT",
    "Cuba",
    "Asia/Calcutta",
    "Europe/Kiev",
    "europe/paris",
    "Not/A_Zone",
]


@pytest.mark.parametrize("timezone", NON_CANONICAL)
def test_non_canonical_time_zones_are_refused(conn: psycopg.Connection, timezone: str) -> None:
    owner = create_user(conn)
    slug = f"tz-{secrets.token_hex(4)}"
    assert (
        rpc_error(
            conn, Actor.user(owner), "create_workspace", p_name="Clinic", p_slug=slug, p_timezone=timezone
        )
        == "invalid_timezone"
    )
    assert conn.execute("select count(*) from public.workspaces where slug = %s", [slug]).fetchone()[0] == 0


@pytest.mark.parametrize(
    "timezone", ["UTC", "Europe/Paris", "Europe/Oslo", "Europe/Kyiv", "America/New_York", "Asia/Kolkata"]
)
def test_canonical_time_zones_are_accepted(conn: psycopg.Connection, timezone: str) -> None:
    owner = create_user(conn)
    assert (
        rpc_error(
            conn,
            Actor.user(owner),
            "create_workspace",
            p_name="Clinic",
            p_slug=f"tz-{secrets.token_hex(4)}",
            p_timezone=timezone,
        )
        is None
    )


def test_time_zone_validation_never_scans_pg_timezone_names(conn: psycopg.Connection) -> None:
    # The scan is what made a bad name cost 22-75 ms; bench/timezone_validation.py measures it.
    source = conn.execute(
        "select prosrc from pg_proc where oid = 'private.is_valid_timezone(text)'::regprocedure"
    )
    assert "pg_timezone_names" not in source.fetchone()[0]
    unknown = conn.execute(
        "select count(*) from private.timezone_names t"
        " where not exists (select 1 from pg_timezone_names z where z.name = t.name)"
    ).fetchone()[0]
    assert unknown == 0


# --- A8: delete_workspace ------------------------------------------------------------------


def test_an_owner_deletes_a_workspace_and_then_their_account(conn: psycopg.Connection) -> None:
    owner, staff, outsider = create_user(conn), create_user(conn), create_user(conn)
    workspace_id = new_workspace(conn, owner)
    slug = conn.execute("select slug from public.workspaces where id = %s", [workspace_id]).fetchone()[0]
    rpc(conn, Actor.user(staff), "accept_invitation", p_token=invite(conn, owner, workspace_id, staff.email))
    invite(conn, owner, workspace_id, "pending@example.test")

    def remaining() -> tuple[int, int, int]:
        return conn.execute(
            "select (select count(*) from public.workspaces where id = %(w)s),"
            " (select count(*) from public.workspace_members where workspace_id = %(w)s),"
            " (select count(*) from public.invitations where workspace_id = %(w)s)",
            {"w": workspace_id},
        ).fetchone()

    before = remaining()
    assert before == (1, 2, 2)
    # The sole owner cannot delete their account yet.
    with pytest.raises(psycopg.Error) as raised, conn.transaction():
        conn.execute("delete from auth.users where id = %s", [owner.id])
    assert raised.value.diag.message_primary == "last_owner"

    for actor, slug_given, code in (
        (Actor.user(owner), "wrong-slug", "confirmation_mismatch"),
        (Actor.user(owner), None, "confirmation_mismatch"),
        (Actor.user(staff), slug, "forbidden"),
        (Actor.user(outsider), slug, "not_found"),
    ):
        assert (
            rpc_error(conn, actor, "delete_workspace", p_workspace_id=workspace_id, p_confirm_slug=slug_given)
            == code
        )
        assert remaining() == before
    anon_error = rpc_error(
        conn, Actor.anon(), "delete_workspace", p_workspace_id=workspace_id, p_confirm_slug=slug
    )
    assert anon_error is not None
    assert anon_error.startswith("permission denied for function delete_workspace")

    deleted_row = rpc(
        conn,
        Actor.user(owner),
        "delete_workspace",
        p_workspace_id=workspace_id,
        p_confirm_slug=f" {slug.upper()} ",
    )
    assert deleted_row[0][0] == workspace_id
    assert remaining() == (0, 0, 0)
    conn.execute("delete from auth.users where id = %s", [owner.id])
    assert conn.execute("select count(*) from public.profiles where id = %s", [owner.id]).fetchone()[0] == 0


def test_delete_workspace_leaves_other_workspaces_alone(conn: psycopg.Connection) -> None:
    owner, other_owner = create_user(conn), create_user(conn)
    doomed, kept, theirs = (
        new_workspace(conn, owner),
        new_workspace(conn, owner),
        new_workspace(conn, other_owner),
    )
    slug = conn.execute("select slug from public.workspaces where id = %s", [doomed]).fetchone()[0]
    rpc(conn, Actor.user(owner), "delete_workspace", p_workspace_id=doomed, p_confirm_slug=slug)
    left = conn.execute(
        "select id from public.workspaces where id = any(%s)", [[doomed, kept, theirs]]
    ).fetchall()
    assert {row[0] for row in left} == {kept, theirs}


# --- no secret in pgmq: private.invitation_delivery -------------------------------------------


def delivery(conn: psycopg.Connection, invitation_id: uuid.UUID) -> list[tuple[Any, ...]]:
    return run_as(conn, Actor.service(), "select * from private.invitation_delivery(%s)", [invitation_id])


def test_the_worker_rebuilds_the_token_at_delivery(conn: psycopg.Connection) -> None:
    owner = create_user(conn, full_name="Olive Owner")
    guest = create_user(conn)
    workspace_id = new_workspace(conn, owner)
    row = rpc(conn, Actor.user(owner), "invite_member", p_workspace_id=workspace_id, p_email=guest.email)[0]
    invitation_id, token, expires_at = row[0], row[3], row[4]

    job = conn.execute(
        "select message from pgmq.q_jobs where message #>> '{payload,invitation_id}' = %s",
        [str(invitation_id)],
    ).fetchone()[0]
    assert job == {"kind": "invitation_created", "payload": {"invitation_id": str(invitation_id)}}
    assert queued_jobs(conn, containing=token) == 0

    assert delivery(conn, invitation_id) == [
        (invitation_id, workspace_id, "Clinic", guest.email, "staff", "Olive Owner", token, expires_at, True)
    ]
    rpc(conn, Actor.user(owner), "revoke_invitation", p_invitation_id=invitation_id)
    assert delivery(conn, invitation_id)[0][6:] == (None, expires_at, False)
    assert delivery(conn, uuid.uuid4()) == []


def test_only_service_role_reads_deliveries_and_nobody_reads_the_key(conn: psycopg.Connection) -> None:
    owner = create_user(conn)
    workspace_id = new_workspace(conn, owner)
    invitation_id = rpc(
        conn, Actor.user(owner), "invite_member", p_workspace_id=workspace_id, p_email="a@example.test"
    )[0][0]
    for actor in (Actor.anon(), Actor.user(owner)):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            run_as(conn, actor, "select * from private.invitation_delivery(%s)", [invitation_id])
    for role in ("anon", "authenticated", "service_role"):
        for privilege in ("select", "insert", "update", "delete"):
            assert not conn.execute(
                "select has_table_privilege(%s, 'private.token_keys', %s)", [role, privilege]
            ).fetchone()[0]
        assert not conn.execute(
            "select has_function_privilege(%s, 'private.derived_token(uuid, bytea)', 'execute')", [role]
        ).fetchone()[0]
