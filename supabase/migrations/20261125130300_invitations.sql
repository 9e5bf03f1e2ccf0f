-- Invitations: owners invite by email with a one-time, expiring token; only its hash is stored.

create table public.invitations (
    id uuid primary key default gen_random_uuid(),
    workspace_id uuid not null references public.workspaces (id) on delete cascade,
    email text not null,
    role text not null check (role in ('owner', 'staff')),
    token_hash bytea not null unique,
    invited_by uuid references auth.users (id) on delete set null,
    expires_at timestamptz not null,
    accepted_at timestamptz,
    accepted_by uuid references auth.users (id) on delete set null,
    revoked_at timestamptz,
    created_at timestamptz not null default now(),
    constraint invitations_accepted_or_revoked check (accepted_at is null or revoked_at is null)
);

comment on table public.invitations is
'Invitations to join a workspace; pending until accepted, revoked or past expires_at.';
comment on column public.invitations.token_hash is 'sha256 of the token; the token itself is never stored.';

create index invitations_workspace_id_created_at_idx on public.invitations (workspace_id, created_at desc);
-- At most one open invitation per address and workspace (a new one revokes the old).
create unique index invitations_one_open_per_email
on public.invitations (workspace_id, email) where (accepted_at is null and revoked_at is null);

alter table public.invitations enable row level security;

revoke all on public.invitations from anon, authenticated;
grant select on public.invitations to authenticated;
grant all on public.invitations to service_role;

create policy "owners read their workspaces' invitations"
on public.invitations for select to authenticated
using (workspace_id = any((select private.owner_workspace_ids())::uuid[]));

create function private.normalize_email(p_email text)
returns text
language sql
immutable
security invoker
set search_path = ''
as $$
    select case
        when char_length(btrim(p_email)) <= 254
            and lower(btrim(p_email)) ~ '^[a-z0-9.!#$%&''*+/=?^_`{|}~-]+@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$'
            then lower(btrim(p_email))
    end;
$$;

comment on function private.normalize_email(text) is
'Trimmed, lower-cased email, or null when it is not a valid address.';

create function private.token_hash(p_token text)
returns bytea
language sql
immutable
security invoker
set search_path = ''
as $$
    select pg_catalog.sha256(pg_catalog.convert_to(p_token, 'UTF8'));
$$;

comment on function private.token_hash(text) is
'How one-time tokens are stored: sha256 of their UTF-8 text.';

create function private.new_token()
returns text
language sql
volatile
security invoker
set search_path = ''
as $$
    select pg_catalog.translate(pg_catalog.encode(extensions.gen_random_bytes(32), 'base64'), '+/=', '-_');
$$;

comment on function private.new_token() is
'A fresh url-safe token with 256 random bits.';

revoke execute on function private.normalize_email(text), private.token_hash(text), private.new_token() from public;
grant execute on function private.normalize_email(text), private.token_hash(text), private.new_token()
to authenticated, service_role;

create function public.invite_member(
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
    v_user_id uuid := private.require_role(p_workspace_id, 'owner');
    v_email text := private.normalize_email(p_email);
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
    -- Serialise invitations per workspace: the revoke-then-insert below stays atomic.
    perform 1 from public.workspaces as w where w.id = p_workspace_id for no key update;
    if exists (
        select 1
        from public.workspace_members as m
        inner join auth.users as u on m.user_id = u.id
        where m.workspace_id = p_workspace_id and lower(u.email) = v_email
    ) then
        perform private.raise_error('already_member');
    end if;

    update public.invitations as i
    set revoked_at = now()
    where
        i.workspace_id = p_workspace_id
        and i.email = v_email
        and i.accepted_at is null
        and i.revoked_at is null;

    token := private.new_token();
    insert into public.invitations (workspace_id, email, role, token_hash, invited_by, expires_at)
    values (p_workspace_id, v_email, p_role, private.token_hash(token), v_user_id, now() + make_interval(days => p_valid_days))
    returning invitations.id, invitations.email, invitations.role, invitations.expires_at
    into invitation_id, email, role, expires_at;

    perform private.enqueue_job(
        'invitation_created',
        jsonb_build_object(
            'invitation_id', invitation_id,
            'workspace_id', p_workspace_id,
            'email', email,
            'role', role,
            'token', token,
            'expires_at', expires_at,
            'invited_by', v_user_id
        )
    );
end
$$;

comment on function public.invite_member(uuid, text, text, integer) is
'Owners: invites an email as owner or staff; returns the one-time token once and queues the email. Errors: not_authenticated, not_found, forbidden, invalid_email, invalid_role, invalid_expiry, already_member.';

create function public.accept_invitation(p_token text)
returns public.workspace_members
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_user_id uuid := (select auth.uid());
    v_invitation public.invitations;
    v_member public.workspace_members;
begin
    if v_user_id is null then
        perform private.raise_error('not_authenticated');
    end if;
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

comment on function public.accept_invitation(text) is
'Joins the caller to the invitation''s workspace; a member already there keeps their role. Errors: not_authenticated, invitation_not_found, invitation_revoked, invitation_used, invitation_expired, invitation_wrong_user.';

create function public.revoke_invitation(p_invitation_id uuid)
returns public.invitations
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_invitation public.invitations;
begin
    if (select auth.uid()) is null then
        perform private.raise_error('not_authenticated');
    end if;
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

comment on function public.revoke_invitation(uuid) is
'Owners: revokes a pending invitation (idempotent). Errors: not_authenticated, not_found, forbidden, invitation_used.';

revoke execute on function
public.invite_member(uuid, text, text, integer),
public.accept_invitation(text),
public.revoke_invitation(uuid)
from public, anon;

grant execute on function
public.invite_member(uuid, text, text, integer),
public.accept_invitation(text),
public.revoke_invitation(uuid)
to authenticated, service_role;
