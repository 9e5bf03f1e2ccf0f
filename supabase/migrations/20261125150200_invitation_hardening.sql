-- Invitations, hardened: they die with their inviter's rights, the role check
-- runs under the workspace lock, floods are capped, and no token travels in
-- the job queue (the worker rebuilds it at delivery time).

insert into private.error_codes (code, http_status, description) values
(
    'too_many_open_invitations',
    409,
    'This workspace already has 100 open invitations; revoke some or wait for them to expire.'
),
(
    'invitation_rate_limited',
    429,
    'You sent 30 invitations in the last hour; try again later.'
);

update private.error_codes
set description = 'The invitation was revoked by an owner, or its inviter is no longer an owner.'
where code = 'invitation_revoked';

-- Tokens: an invitation's token is HMAC-SHA256(per-database key, id || nonce),
-- url-safe base64. The table still stores only sha256(token); the key lives in
-- a private table that no API role can read, so a job that names the
-- invitation carries nothing usable, and only private.invitation_delivery
-- (service_role) can rebuild the token to email it.

create table private.invitation_token_keys (
    id boolean primary key default true check (id),
    secret bytea not null default extensions.gen_random_bytes(32) check (octet_length(secret) = 32),
    created_at timestamptz not null default now()
);

comment on table private.invitation_token_keys is
'The one per-database key invitation tokens are derived from (HMAC-SHA256). Never granted to anyone.';

revoke all on private.invitation_token_keys from public, anon, authenticated, service_role;
-- Reached only through security definer functions; RLS with no policy is a second lock.
alter table private.invitation_token_keys enable row level security;

insert into private.invitation_token_keys default values;

alter table public.invitations add column token_nonce bytea check (octet_length(token_nonce) = 16);

comment on column public.invitations.token_nonce is
'Random per invitation; with the private key it rebuilds the token for delivery. Null for invitations made before tokens were derived (they cannot be re-delivered).';

-- The per-inviter hourly cap and the inviter's revocations read by inviter.
create index invitations_invited_by_created_at_idx on public.invitations (invited_by, created_at);
create index invitations_accepted_by_idx on public.invitations (accepted_by);

create function private.invitation_token(p_invitation_id uuid, p_nonce bytea)
returns text
language sql
stable
security definer
set search_path = ''
as $$
    select pg_catalog.translate(
        pg_catalog.encode(
            extensions.hmac(pg_catalog.convert_to(p_invitation_id::text, 'UTF8') || p_nonce, k.secret, 'sha256'),
            'base64'
        ),
        '+/=',
        '-_'
    )
    from private.invitation_token_keys as k;
$$;

comment on function private.invitation_token(uuid, bytea) is
'The token of an invitation: url-safe base64 of HMAC-SHA256(key, id || nonce), 43 characters.';

revoke execute on function private.invitation_token(uuid, bytea) from public, anon, authenticated, service_role;

-- Invitations die with their inviter's rights: an owner who is demoted or
-- removed (or whose account is deleted) takes their open invitations along.

create function private.revoke_invitations_of_former_owner()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    if old.role <> 'owner' or (tg_op = 'UPDATE' and new.role = 'owner') then
        return null;
    end if;
    update public.invitations as i
    set revoked_at = now()
    where
        i.workspace_id = old.workspace_id
        and i.invited_by = old.user_id
        and i.accepted_at is null
        and i.revoked_at is null;
    return null;
end
$$;

comment on function private.revoke_invitations_of_former_owner() is
'Trigger: when an owner is demoted or removed, revokes the open invitations they sent in that workspace.';

create trigger workspace_members_revoke_invitations_of_former_owner
after update of role or delete on public.workspace_members
for each row execute function private.revoke_invitations_of_former_owner();

-- Before the row goes: invited_by is still set (the foreign key nulls it afterwards).
create function private.revoke_invitations_of_deleted_user()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    -- Workspaces first, then invitations: the lock order of accept_invitation,
    -- invite_member and keep_last_owner, so this cannot deadlock with them.
    perform 1
    from public.workspaces as w
    where w.id in (
        select m.workspace_id from public.workspace_members as m
        where m.user_id = old.id and m.role = 'owner'
    )
    order by w.id
    for no key update;
    update public.invitations as i
    set revoked_at = now()
    where i.invited_by = old.id and i.accepted_at is null and i.revoked_at is null;
    return old;
end
$$;

comment on function private.revoke_invitations_of_deleted_user() is
'Trigger on auth.users: a deleted account''s open invitations are revoked.';

create trigger on_auth_user_deleted_revoke_invitations
before delete on auth.users
for each row execute function private.revoke_invitations_of_deleted_user();

-- Open invitations made before this migration by people who are no longer owners.
update public.invitations as i
set revoked_at = now()
where
    i.accepted_at is null
    and i.revoked_at is null
    and not exists (
        select 1 from public.workspace_members as m
        where m.workspace_id = i.workspace_id and m.user_id = i.invited_by and m.role = 'owner'
    );

create or replace function public.invite_member(
    p_workspace_id uuid,
    p_email text,
    p_role text default 'staff',
    p_valid_days integer default 7,
    out invitation_id uuid,
    out email text,
    out role text,
    out token text,
    out expires_at timestamptz
)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    -- Limits against invitation floods (README, docs/errors.md).
    c_max_open_per_workspace constant integer := 100;
    c_max_per_inviter_per_hour constant integer := 30;
    v_user_id uuid := private.require_role(p_workspace_id, 'owner');
    v_email text := private.normalize_email(p_email);
    v_nonce bytea := extensions.gen_random_bytes(16);
begin
    if v_email is null then
        perform private.raise_error('invalid_email');
    end if;
    if p_role is null or p_role not in ('owner', 'staff') then
        perform private.raise_error('invalid_role');
    end if;
    if p_valid_days is null or p_valid_days not between 1 and 30 then
        perform private.raise_error('invalid_expiry');
    end if;

    -- Serialise the inviter's invitations (the hourly cap holds across workspaces)...
    perform 1 from public.profiles as p where p.id = v_user_id for no key update;
    if not found then
        perform private.raise_error('not_authenticated');
    end if;
    -- ...and the workspace's (the open cap, the revoke-then-insert below), and
    -- wait for any demotion or removal of an owner in progress: keep_last_owner
    -- takes the same lock.
    perform 1 from public.workspaces as w where w.id = p_workspace_id for no key update;
    -- The role again, now that it cannot change until we commit: the check above
    -- may predate a demotion that committed while we waited.
    perform private.require_role(p_workspace_id, 'owner');

    if exists (
        select 1
        from public.workspace_members as m
        inner join auth.users as u on m.user_id = u.id
        where m.workspace_id = p_workspace_id and lower(u.email) = v_email
    ) then
        perform private.raise_error('already_member');
    end if;
    if (
        select count(*) from public.invitations as i
        where i.invited_by = v_user_id and i.created_at > now() - interval '1 hour'
    ) >= c_max_per_inviter_per_hour then
        perform private.raise_error('invitation_rate_limited');
    end if;
    -- A new invitation to an address replaces its open one: that one does not count.
    if (
        select count(*) from public.invitations as i
        where
            i.workspace_id = p_workspace_id
            and i.email <> v_email
            and i.accepted_at is null
            and i.revoked_at is null
            and i.expires_at > now()
    ) >= c_max_open_per_workspace then
        perform private.raise_error('too_many_open_invitations');
    end if;

    update public.invitations as i
    set revoked_at = now()
    where
        i.workspace_id = p_workspace_id
        and i.email = v_email
        and i.accepted_at is null
        and i.revoked_at is null;

    invitation_id := gen_random_uuid();
    token := private.invitation_token(invitation_id, v_nonce);
    insert into public.invitations (id, workspace_id, email, role, token_hash, token_nonce, invited_by, expires_at)
    values (
        invitation_id,
        p_workspace_id,
        v_email,
        p_role,
        private.token_hash(token),
        v_nonce,
        v_user_id,
        now() + make_interval(days => p_valid_days)
    )
    returning invitations.email, invitations.role, invitations.expires_at
    into email, role, expires_at;

    -- Only the id: the worker reads the rest, token included, through
    -- private.invitation_delivery when it sends the email.
    perform private.enqueue_job('invitation_created', jsonb_build_object('invitation_id', invitation_id));
end
$$;

comment on function public.invite_member(uuid, text, text, integer) is
'Owners: invites an email as owner or staff; returns the one-time token once and queues the email (the job names only the invitation). At most 100 open invitations per workspace and 30 invitations per inviter per hour. Errors: not_authenticated, not_found, forbidden, invalid_email, invalid_role, invalid_expiry, already_member, invitation_rate_limited, too_many_open_invitations.';

create or replace function public.accept_invitation(p_token text)
returns public.workspace_members
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_user_id uuid := (select auth.uid());
    v_workspace_id uuid;
    v_invitation public.invitations;
    v_member public.workspace_members;
begin
    -- The membership row references the profile: hold it so a concurrent
    -- account deletion answers not_authenticated, not a foreign key error.
    perform 1 from public.profiles as p where p.id = v_user_id for key share;
    if v_user_id is null or not found then
        perform private.raise_error('not_authenticated');
    end if;
    select i.workspace_id into v_workspace_id
    from public.invitations as i
    where i.token_hash = private.token_hash(coalesce(p_token, ''));
    if not found then
        perform private.raise_error('invitation_not_found');
    end if;
    -- Lock order as in invite_member and keep_last_owner (workspace, then
    -- invitation): an inviter's demotion in progress finishes first, and its
    -- revocation of this invitation is seen below.
    perform 1 from public.workspaces as w where w.id = v_workspace_id for share;
    select i.* into v_invitation
    from public.invitations as i
    where i.token_hash = private.token_hash(coalesce(p_token, ''))
    for update;
    if not found then
        perform private.raise_error('invitation_not_found');
    end if;
    if v_invitation.revoked_at is not null then
        perform private.raise_error('invitation_revoked');
    end if;
    if v_invitation.accepted_at is not null then
        select m.* into v_member
        from public.workspace_members as m
        where m.workspace_id = v_invitation.workspace_id and m.user_id = v_user_id;
        if v_invitation.accepted_by = v_user_id and found then
            return v_member;
        end if;
        perform private.raise_error('invitation_used');
    end if;
    if v_invitation.expires_at <= now() then
        perform private.raise_error('invitation_expired');
    end if;
    -- An invitation carries its inviter's rights: only an owner may invite, so
    -- one whose inviter is no longer an owner here is dead.
    if not exists (
        select 1 from public.workspace_members as m
        where
            m.workspace_id = v_invitation.workspace_id
            and m.user_id = v_invitation.invited_by
            and m.role = 'owner'
    ) then
        perform private.raise_error('invitation_revoked', 'The person who sent this invitation is no longer an owner.');
    end if;
    if not exists (
        select 1 from auth.users as u
        where u.id = v_user_id and lower(u.email) = v_invitation.email
    ) then
        perform private.raise_error('invitation_wrong_user');
    end if;

    insert into public.workspace_members (workspace_id, user_id, role)
    values (v_invitation.workspace_id, v_user_id, v_invitation.role)
    on conflict (workspace_id, user_id) do nothing;

    update public.invitations as i
    set accepted_at = now(), accepted_by = v_user_id
    where i.id = v_invitation.id;

    select m.* into v_member
    from public.workspace_members as m
    where m.workspace_id = v_invitation.workspace_id and m.user_id = v_user_id;
    return v_member;
end
$$;

create or replace function public.revoke_invitation(p_invitation_id uuid)
returns public.invitations
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_invitation public.invitations;
begin
    perform private.require_user();
    select i.* into v_invitation from public.invitations as i where i.id = p_invitation_id for update;
    if not found or not private.is_member(v_invitation.workspace_id) then
        perform private.raise_error('not_found', 'No such invitation in your workspaces.');
    end if;
    perform private.require_role(v_invitation.workspace_id, 'owner');
    if v_invitation.accepted_at is not null then
        perform private.raise_error('invitation_used');
    end if;
    if v_invitation.revoked_at is null then
        update public.invitations as i set revoked_at = now() where i.id = p_invitation_id
        returning i.* into v_invitation;
    end if;
    return v_invitation;
end
$$;

-- What the worker needs to email an invitation, read at delivery time.
create function private.invitation_delivery(p_invitation_id uuid)
returns table (
    invitation_id uuid,
    workspace_id uuid,
    workspace_name text,
    email text,
    role text,
    inviter_name text,
    token text,
    expires_at timestamptz,
    is_open boolean
)
language sql
stable
security definer
set search_path = ''
as $$
    select
        i.id,
        i.workspace_id,
        w.name,
        i.email,
        i.role,
        coalesce(nullif(p.full_name, ''), p.email),
        case when s.is_open and i.token_nonce is not null then private.invitation_token(i.id, i.token_nonce) end,
        i.expires_at,
        s.is_open
    from public.invitations as i
    inner join public.workspaces as w on i.workspace_id = w.id
    left join public.profiles as p on i.invited_by = p.id
    cross join lateral (
        select i.accepted_at is null and i.revoked_at is null and i.expires_at > now() as is_open
    ) as s
    where i.id = p_invitation_id;
$$;

comment on function private.invitation_delivery(uuid) is
'For the worker (service_role): one row per invitation id with what its email needs; token only while is_open (not accepted, not revoked, not expired) and null for invitations made before derived tokens. No row: the invitation or its workspace is gone.';

revoke execute on function private.invitation_delivery(uuid) from public, anon, authenticated;
grant execute on function private.invitation_delivery(uuid) to service_role;

-- Jobs queued before this migration carried the plain token: keep only the id,
-- in the queue and in its archive.
update pgmq.q_jobs
set
    message = jsonb_build_object(
        'kind',
        'invitation_created',
        'payload',
        jsonb_build_object('invitation_id', message #> '{payload,invitation_id}')
    )
where message ->> 'kind' = 'invitation_created' and message #> '{payload,token}' is not null;

update pgmq.a_jobs
set
    message = jsonb_build_object(
        'kind',
        'invitation_created',
        'payload',
        jsonb_build_object('invitation_id', message #> '{payload,invitation_id}')
    )
where message ->> 'kind' = 'invitation_created' and message #> '{payload,token}' is not null;
