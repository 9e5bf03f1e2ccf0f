-- Tenancy: profiles, workspaces and members, invitations, time zones.
--
-- One migration per domain, each in the same section order. Until the first hosted release a
-- definition is changed here, in place (docs/development.md, "Migrations"); docs/schema/ shows every object.
-- ==============================================================================================
--
-- Profiles: one row per auth user, made by a trigger on auth.users as GoTrue sign-up inserts it.
--
-- Workspaces and membership: the tenant boundary, the access helpers every policy uses, create_workspace.
--
-- Invitations: owners invite by email with a one-time, expiring token; only its hash is stored.
--
-- Users without a profile: backfill the auth users that predate the profile
-- trigger (a hosted project that already had users), and answer a signed-in
-- caller without a profile (a deleted account whose JWT is still valid, or a
-- profile missing for any other reason) with not_authenticated, never with a
-- constraint name.
--
-- Time zones: canonical IANA names only, and one index lookup per check.
--
-- pg_timezone_names lists every file under the tz directory: besides the
-- canonical zones it has localtime, posixrules, Factory, the posix/… and
-- right/… copies and the backward-compatible links (US/Eastern, GMT+0, Cuba,
-- Etc/GMT-3, EST5EDT, …). A workspace's zone must be one of the zones IANA
-- lists for a country (zone.tab and zone1970.tab of tzdata 2025b, below) or
-- UTC, and known to this database. A name outside the snapshot is invalid at
-- once: no fallback scan of pg_timezone_names (22 to 75 ms per call), so a bad
-- name costs what a good one costs. Existing workspaces keep their zone until
-- an owner changes it.
--
-- Invitations, hardened: they die with their inviter's rights, the role check
-- runs under the workspace lock, floods are capped, and no token travels in
-- the job queue (the worker rebuilds it at delivery time).
--
-- delete_workspace: an owner deletes a workspace and everything in it, after
-- which a sole owner can delete their account.

-- Tables --------------------------------------------------------------------------------

create table public.profiles (
    id uuid primary key references auth.users (id) on delete cascade,
    email text,
    full_name text not null default '' check (char_length(full_name) <= 200),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint profiles_full_name_is_clean check (full_name = '' or private.is_clean_text(full_name, 200))
);

comment on table public.profiles is
'The public face of a user: name and email, readable by the user and their co-members.';

create table public.workspaces (
    id uuid primary key default gen_random_uuid(),
    name text not null,
    slug text not null unique,
    timezone text not null,
    status text not null default 'draft' check (status in ('draft', 'active', 'suspended')),
    created_by uuid references auth.users (id) on delete set null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    max_active_bookings_per_email integer not null default 5,
    constraint workspaces_name_is_clean check (private.is_clean_text(name, 120)),
    constraint workspaces_booking_limit_range check (max_active_bookings_per_email between 1 and 100)
);

comment on table public.workspaces is
'A business (clinic, salon, practice): the tenant every other row belongs to.';

comment on column public.workspaces.max_active_bookings_per_email is
'How many future confirmed bookings one email address may hold in the workspace (public booking abuse limit).';

comment on column public.workspaces.timezone is 'IANA time zone that availability and reminders use.';

comment on column public.workspaces.status is 'draft until activate_workspace succeeds; public booking needs active.';

comment on column public.workspaces.created_by is 'Who created it; null once that account is deleted.';

create table public.workspace_members (
    workspace_id uuid not null references public.workspaces (id) on delete cascade,
    user_id uuid not null references public.profiles (id) on delete cascade,
    role text not null check (role in ('owner', 'staff')),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    primary key (workspace_id, user_id)
);

comment on table public.workspace_members is
'Who works in a workspace and as what: owner (everything) or staff (day-to-day work).';

comment on column public.workspace_members.user_id is
'The member''s profile (one per auth user), so PostgREST can embed profiles(full_name, email).';

-- pg_timezone_names reads the whole tz database on every query (~50 ms); a
-- snapshot answers the common case and the view stays the authority for the rest.
create table private.timezone_names (name text primary key);

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
    token_nonce bytea check (octet_length(token_nonce) = 16),
    constraint invitations_accepted_or_revoked check (accepted_at is null or revoked_at is null)
);

comment on table public.invitations is
'Invitations to join a workspace; pending until accepted, revoked or past expires_at.';

comment on column public.invitations.token_nonce is
'Random per invitation; with the private key it rebuilds the token for delivery. Null for invitations made before tokens were derived (they cannot be re-delivered).';

comment on column public.invitations.token_hash is 'sha256 of the token; the token itself is never stored.';

comment on table private.timezone_names is
'The time zone names a workspace may use: canonical IANA zones and UTC, as far as this database knows them.';

-- Tokens rebuilt at delivery time (invitations, booking manage links): a token is
-- HMAC-SHA256(per-database key, id || nonce), url-safe base64. Tables store only
-- sha256(token) and the random nonce; the key lives in a private table that no API role
-- can read, so a job or a message row that names the invitation or booking carries
-- nothing usable, and only security definer functions of the delivery path rebuild it.
create table private.token_keys (
    id boolean primary key default true check (id),
    secret bytea not null default extensions.gen_random_bytes(32) check (octet_length(secret) = 32),
    created_at timestamptz not null default now()
);

comment on table private.token_keys is
'The one per-database key that invitation and booking manage tokens are derived from (HMAC-SHA256, '
'private.derived_token). Never granted to anyone.';

-- Indexes -------------------------------------------------------------------------------

create index workspace_members_user_id_idx on public.workspace_members (user_id) include (workspace_id, role);

create index invitations_workspace_id_created_at_idx on public.invitations (workspace_id, created_at desc);

-- At most one open invitation per address and workspace (a new one revokes the old).
create unique index invitations_one_open_per_email
on public.invitations (workspace_id, email) where (accepted_at is null and revoked_at is null);

-- The per-inviter hourly cap and the inviter's revocations read by inviter.
create index invitations_invited_by_created_at_idx on public.invitations (invited_by, created_at);

create index invitations_accepted_by_idx on public.invitations (accepted_by);

create index invitations_open_workspace_id_expires_at_idx on public.invitations (workspace_id, expires_at)
where (accepted_at is null and revoked_at is null);

-- Functions -----------------------------------------------------------------------------

-- Sign-up metadata is user-controlled: a name that is not clean becomes empty rather than failing sign-up.
create function private.create_profile_for_new_user()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_name text := left(coalesce(new.raw_user_meta_data ->> 'full_name', new.raw_user_meta_data ->> 'name', ''), 200);
begin
    v_name := pg_catalog.btrim(v_name);
    if v_name <> '' and not private.is_clean_text(v_name, 200) then
        v_name := '';
    end if;
    insert into public.profiles (id, email, full_name)
    values (new.id, new.email, v_name)
    on conflict (id) do nothing;
    return new;
end
$$;

comment on function private.create_profile_for_new_user() is
'Trigger on auth.users: creates the profile of every new user.';

create function private.sync_profile_email()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    update public.profiles set email = new.email where id = new.id;
    return new;
end
$$;

comment on function private.sync_profile_email() is
'Trigger on auth.users: keeps profiles.email equal to the confirmed auth email.';

-- Access helpers. Definer so that policies on workspace_members can use them
-- without recursing into their own RLS. Policies wrap the array helpers in
-- (select …) so each runs once per statement, not once per row. The array
-- helpers are plpgsql on purpose: a definer SQL function with a search_path
-- cannot be inlined and is re-planned on every call, while plpgsql keeps its
-- plan for the session (bench/rls_overhead.py measured 0.31 ms vs 0.09 ms).
create function private.member_workspace_ids()
returns uuid[]
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
    return (
        select coalesce(array_agg(m.workspace_id), '{}')
        from public.workspace_members as m
        where m.user_id = (select auth.uid())
    );
end
$$;

comment on function private.member_workspace_ids() is
'Workspaces the calling user belongs to, in any role.';

create function private.owner_workspace_ids()
returns uuid[]
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
    return (
        select coalesce(array_agg(m.workspace_id), '{}')
        from public.workspace_members as m
        where m.user_id = (select auth.uid()) and m.role = 'owner'
    );
end
$$;

comment on function private.owner_workspace_ids() is
'Workspaces the calling user owns.';

create function private.co_member_ids()
returns uuid[]
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
    return (
        select coalesce(array_agg(distinct other.user_id), '{}')
        from public.workspace_members as mine
        inner join public.workspace_members as other on mine.workspace_id = other.workspace_id
        where mine.user_id = (select auth.uid())
    );
end
$$;

comment on function private.co_member_ids() is
'Users who share at least one workspace with the calling user (the caller included).';

create function private.is_member(p_workspace_id uuid)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
    select exists (
        select 1 from public.workspace_members as m
        where m.workspace_id = p_workspace_id and m.user_id = (select auth.uid())
    );
$$;

comment on function private.is_member(uuid) is
'Whether the calling user belongs to the workspace, in any role.';

create function private.has_role(p_workspace_id uuid, p_role text)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
    select exists (
        select 1 from public.workspace_members as m
        where
            m.workspace_id = p_workspace_id
            and m.user_id = (select auth.uid())
            and (m.role = p_role or (p_role = 'staff' and m.role = 'owner'))
    );
$$;

comment on function private.has_role(uuid, text) is
'Whether the calling user holds the role in the workspace; owners also pass for staff.';

create function private.require_user()
returns uuid
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    v_user_id uuid := (select auth.uid());
begin
    if v_user_id is null or not exists (select 1 from public.profiles as p where p.id = v_user_id) then
        perform private.raise_error('not_authenticated');
    end if;
    return v_user_id;
end
$$;

comment on function private.require_user() is
'Guard for RPCs: returns auth.uid() when that user still has a profile, else raises not_authenticated.';

create function private.require_role(p_workspace_id uuid, p_role text)
returns uuid
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    v_user_id uuid := private.require_user();
begin
    if not private.is_member(p_workspace_id) then
        perform private.raise_error('not_found', 'No such workspace, or you are not a member of it.');
    end if;
    if not private.has_role(p_workspace_id, p_role) then
        perform private.raise_error('forbidden', format('This needs the %s role in the workspace.', p_role));
    end if;
    return v_user_id;
end
$$;

comment on function private.require_role(uuid, text) is
'Guard for RPCs: returns auth.uid() or raises not_authenticated, not_found or forbidden.';

create function private.is_valid_timezone(p_timezone text)
returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
    return p_timezone is not null and exists (select 1 from private.timezone_names as t where t.name = p_timezone);
end
$$;

comment on function private.is_valid_timezone(text) is
'Whether the text is a canonical IANA time zone name (or UTC) that this database knows: one index lookup.';

-- Callers cannot see other tenants' workspaces; this can. The unique
-- constraint still settles races (create_workspace maps it to slug_taken).
create function private.slug_in_use(p_slug text, p_workspace_id uuid)
returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
    return exists (select 1 from public.workspaces as w where w.slug = p_slug and w.id <> p_workspace_id);
end
$$;

comment on function private.slug_in_use(text, uuid) is
'Whether another workspace already uses the slug.';

create function private.validate_workspace()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
begin
    new.name := private.clean_text(new.name, 120, 'invalid_name');
    if
        new.slug is null
        or char_length(new.slug) not between 3 and 63
        or new.slug !~ '^[a-z0-9]+(-[a-z0-9]+)*$'
    then
        perform private.raise_error('invalid_slug');
    end if;
    if (tg_op = 'INSERT' or new.slug is distinct from old.slug) and private.slug_in_use(new.slug, new.id) then
        perform private.raise_error('slug_taken', format('The slug "%s" is taken.', new.slug));
    end if;
    if
        (tg_op = 'INSERT' or new.timezone is distinct from old.timezone)
        and not private.is_valid_timezone(new.timezone)
    then
        perform private.raise_error('invalid_timezone');
    end if;
    return new;
end
$$;

comment on function private.validate_workspace() is
'Trigger: name, slug and timezone rules with stable error codes.';

-- A workspace never loses its last owner. The workspace row lock serialises
-- concurrent demotions/removals so two owners cannot remove each other.
create function private.keep_last_owner()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    if old.role <> 'owner' or (tg_op = 'UPDATE' and new.role = 'owner') then
        return coalesce(new, old);
    end if;
    perform 1 from public.workspaces as w where w.id = old.workspace_id for no key update;
    if not found then
        -- The workspace itself is being deleted: its members go with it.
        return coalesce(new, old);
    end if;
    if not exists (
        select 1 from public.workspace_members as m
        where m.workspace_id = old.workspace_id and m.role = 'owner' and m.user_id <> old.user_id
    ) then
        perform private.raise_error('last_owner');
    end if;
    return coalesce(new, old);
end
$$;

comment on function private.keep_last_owner() is
'Trigger: refuses to demote or remove the last owner of a workspace.';

-- The membership row references the profile: hold it (key share) so that an
-- account deleted meanwhile answers not_authenticated, not a foreign key error.
create function public.create_workspace(p_name text, p_slug text, p_timezone text)
returns public.workspaces
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_user_id uuid := (select auth.uid());
    v_workspace public.workspaces;
begin
    perform 1 from public.profiles as p where p.id = v_user_id for key share;
    if v_user_id is null or not found then
        perform private.raise_error('not_authenticated');
    end if;
    begin
        insert into public.workspaces (name, slug, timezone, created_by)
        values (p_name, lower(btrim(p_slug)), btrim(p_timezone), v_user_id)
        returning * into v_workspace;
    exception when unique_violation then
        perform private.raise_error('slug_taken', format('The slug "%s" is taken.', lower(btrim(p_slug))));
    end;
    insert into public.workspace_members (workspace_id, user_id, role)
    values (v_workspace.id, v_user_id, 'owner');
    return v_workspace;
end
$$;

comment on function public.create_workspace(text, text, text) is
'Creates a draft workspace with the caller as its owner. Errors: not_authenticated, invalid_name, invalid_slug, slug_taken, invalid_timezone.';

create function private.normalize_email(p_email text)
returns text
language plpgsql
immutable
security invoker
set search_path = ''
as $$
begin
    return case
        when char_length(btrim(p_email)) <= 254
            and lower(btrim(p_email)) ~ '^[a-z0-9.!#$%&''*+/=?^_`{|}~-]+@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$'
            then lower(btrim(p_email))
    end;
end
$$;

comment on function private.normalize_email(text) is
'Trimmed, lower-cased email, or null when it is not a valid address.';

create function private.token_hash(p_token text)
returns bytea
language plpgsql
immutable
security invoker
set search_path = ''
as $$
begin
    return pg_catalog.sha256(pg_catalog.convert_to(p_token, 'UTF8'));
end
$$;

comment on function private.token_hash(text) is
'How one-time tokens are stored: sha256 of their UTF-8 text.';

create function private.new_token()
returns text
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
    return pg_catalog.translate(pg_catalog.encode(extensions.gen_random_bytes(32), 'base64'), '+/=', '-_');
end
$$;

comment on function private.new_token() is
'A fresh url-safe token with 256 random bits.';

-- plpgsql, not sql: a definer SQL function with a search_path is not inlined and is planned
-- again on every call (0.1 ms, twice per booking); plpgsql keeps its plan for the session.
create function private.derived_token(p_id uuid, p_nonce bytea)
returns text
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
    return (
        select pg_catalog.translate(
            pg_catalog.encode(
                extensions.hmac(pg_catalog.convert_to(p_id::text, 'UTF8') || p_nonce, k.secret, 'sha256'),
                'base64'
            ),
            '+/=',
            '-_'
        )
        from private.token_keys as k
    );
end
$$;

comment on function private.derived_token(uuid, bytea) is
'The one rule for tokens rebuilt at delivery (an invitation''s, a booking''s manage token): url-safe base64 of '
'HMAC-SHA256(key, id || nonce), 43 characters.';

create function public.invite_member(
    p_workspace_id uuid,
    p_email text,
    p_role text default 'staff',
    p_valid_days integer default 7
)
returns table (invitation_id uuid, email text, role text, token text, expires_at timestamptz)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    -- Limits against invitation floods (docs/backend.md, docs/errors.md).
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
    token := private.derived_token(invitation_id, v_nonce);
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
    -- One row: supabase-js reads it with .single() (a set, so the generated types describe it).
    return next;
end
$$;

comment on function public.invite_member(uuid, text, text, integer) is
'Owners: invites an email as owner or staff; returns the one-time token once and queues the email (the job names only the invitation). At most 100 open invitations per workspace and 30 invitations per inviter per hour. Errors: not_authenticated, not_found, forbidden, invalid_email, invalid_role, invalid_expiry, already_member, invitation_rate_limited, too_many_open_invitations.';

create function public.accept_invitation(p_token text)
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

comment on function public.revoke_invitation(uuid) is
'Owners: revokes a pending invitation (idempotent). Errors: not_authenticated, not_found, forbidden, invitation_used.';

create function private.validate_profile()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
begin
    if new.full_name is null or pg_catalog.btrim(new.full_name) = '' then
        new.full_name := '';
    else
        new.full_name := private.clean_text(new.full_name, 200, 'invalid_full_name');
    end if;
    return new;
end
$$;

comment on function private.validate_profile() is
'Trigger: a profile''s full name is empty or a clean human text (invalid_full_name).';

-- Same naming rule as private.create_profile_for_new_user: sign-up metadata
-- that is not clean human text becomes an empty name.
create function private.backfill_profiles()
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_count integer;
begin
    insert into public.profiles (id, email, full_name)
    select
        u.id,
        u.email,
        case when private.is_clean_text(n.full_name, 200) then n.full_name else '' end
    from auth.users as u
    cross join lateral (
        select
            pg_catalog.btrim(
                left(coalesce(u.raw_user_meta_data ->> 'full_name', u.raw_user_meta_data ->> 'name', ''), 200)
            ) as full_name
    ) as n
    on conflict (id) do nothing;
    get diagnostics v_count = row_count;
    return v_count;
end
$$;

comment on function private.backfill_profiles() is
'Creates the missing profile of every auth user (users older than the profile trigger); returns how many.';

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
        case when s.is_open and i.token_nonce is not null then private.derived_token(i.id, i.token_nonce) end,
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

create function public.delete_workspace(p_workspace_id uuid, p_confirm_slug text)
returns public.workspaces
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_workspace public.workspaces;
begin
    -- Non-members learn nothing and lock nothing.
    perform private.require_role(p_workspace_id, 'owner');
    select w.* into v_workspace from public.workspaces as w where w.id = p_workspace_id for update;
    -- Again under the lock: a demotion that committed while we waited counts.
    perform private.require_role(p_workspace_id, 'owner');
    if p_confirm_slug is null or lower(btrim(p_confirm_slug)) <> v_workspace.slug then
        perform private.raise_error('confirmation_mismatch');
    end if;
    -- Everything that references the workspace goes with it (on delete cascade):
    -- memberships and invitations today, and every workspace-owned table later.
    delete from public.workspaces as w where w.id = p_workspace_id;
    return v_workspace;
end
$$;

comment on function public.delete_workspace(uuid, text) is
'Owners: deletes the workspace and everything in it (memberships, invitations and every row that belongs to it), confirmed by its slug; returns the deleted row. Errors: not_authenticated, not_found, forbidden, confirmation_mismatch.';

-- Triggers ------------------------------------------------------------------------------

create trigger profiles_touch_updated_at
before update on public.profiles
for each row execute function private.touch_updated_at();

create trigger on_auth_user_created
after insert on auth.users
for each row execute function private.create_profile_for_new_user();

create trigger on_auth_user_email_changed
after update of email on auth.users
for each row when (old.email is distinct from new.email)
execute function private.sync_profile_email();

create trigger workspaces_touch_updated_at
before update on public.workspaces
for each row execute function private.touch_updated_at();

create trigger workspace_members_touch_updated_at
before update on public.workspace_members
for each row execute function private.touch_updated_at();

create trigger workspaces_validate
before insert or update of name, slug, timezone on public.workspaces
for each row execute function private.validate_workspace();

create trigger workspace_members_keep_last_owner
before update of role or delete on public.workspace_members
for each row execute function private.keep_last_owner();

create trigger profiles_validate
before insert or update of full_name on public.profiles
for each row execute function private.validate_profile();

create trigger workspace_members_revoke_invitations_of_former_owner
after update of role or delete on public.workspace_members
for each row execute function private.revoke_invitations_of_former_owner();

create trigger on_auth_user_deleted_revoke_invitations
before delete on auth.users
for each row execute function private.revoke_invitations_of_deleted_user();

-- Row level security, policies and Realtime ---------------------------------------------

alter table public.profiles enable row level security;

alter table public.workspaces enable row level security;

alter table public.workspace_members enable row level security;

-- Reached only through security definer functions; RLS with no policy is a second lock.
alter table private.timezone_names enable row level security;

-- Policies
create policy "members read their workspaces"
on public.workspaces for select to authenticated
using (id = any((select private.member_workspace_ids())::uuid[]));

create policy "owners update their workspaces"
on public.workspaces for update to authenticated
using (id = any((select private.owner_workspace_ids())::uuid[]))
with check (id = any((select private.owner_workspace_ids())::uuid[]));

create policy "members read their co-members"
on public.workspace_members for select to authenticated
using (workspace_id = any((select private.member_workspace_ids())::uuid[]));

create policy "owners change member roles"
on public.workspace_members for update to authenticated
using (workspace_id = any((select private.owner_workspace_ids())::uuid[]))
with check (workspace_id = any((select private.owner_workspace_ids())::uuid[]));

create policy "owners remove members and members leave"
on public.workspace_members for delete to authenticated
using (
    workspace_id = any((select private.owner_workspace_ids())::uuid[])
    or user_id = (select auth.uid())
);

create policy "users read their own and co-members' profiles"
on public.profiles for select to authenticated
using (id = (select auth.uid()) or id = any((select private.co_member_ids())::uuid[]));

create policy "users update their own profile"
on public.profiles for update to authenticated
using (id = (select auth.uid()))
with check (id = (select auth.uid()));

alter table public.invitations enable row level security;

create policy "owners read their workspaces' invitations"
on public.invitations for select to authenticated
using (workspace_id = any((select private.owner_workspace_ids())::uuid[]));

-- Reached only through security definer functions; RLS with no policy is a second lock.
alter table private.token_keys enable row level security;

-- Grants --------------------------------------------------------------------------------

revoke all on public.profiles from anon, authenticated;

grant select on public.profiles to authenticated;

grant update (full_name) on public.profiles to authenticated;

grant all on public.profiles to service_role;

-- Column privileges keep ids, status and creator out of reach; status moves
-- only through activate_workspace.
revoke all on public.workspaces from anon, authenticated;

grant select on public.workspaces to authenticated;

grant update (name, slug, timezone) on public.workspaces to authenticated;

grant all on public.workspaces to service_role;

revoke all on public.workspace_members from anon, authenticated;

grant select, delete on public.workspace_members to authenticated;

grant update (role) on public.workspace_members to authenticated;

grant all on public.workspace_members to service_role;

revoke execute on function
private.member_workspace_ids(),
private.owner_workspace_ids(),
private.co_member_ids(),
private.is_member(uuid),
private.has_role(uuid, text),
private.require_role(uuid, text)
from public;

grant execute on function
private.member_workspace_ids(),
private.owner_workspace_ids(),
private.co_member_ids(),
private.is_member(uuid),
private.has_role(uuid, text),
private.require_role(uuid, text)
to authenticated, service_role;

revoke all on private.timezone_names from public, anon, authenticated;

revoke execute on function private.is_valid_timezone(text) from public;

grant execute on function private.is_valid_timezone(text) to authenticated, service_role;

revoke execute on function private.slug_in_use(text, uuid) from public;

grant execute on function private.slug_in_use(text, uuid) to authenticated, service_role;

revoke execute on function public.create_workspace(text, text, text) from public, anon;

grant execute on function public.create_workspace(text, text, text) to authenticated, service_role;

revoke all on public.invitations from anon, authenticated;

grant select on public.invitations to authenticated;

grant all on public.invitations to service_role;

revoke execute on function private.normalize_email(text), private.token_hash(text), private.new_token() from public;

grant execute on function private.normalize_email(text), private.token_hash(text), private.new_token()
to authenticated, service_role;

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

revoke execute on function private.backfill_profiles() from public, anon, authenticated, service_role;

revoke execute on function private.require_user() from public;

grant execute on function private.require_user() to authenticated, service_role;

revoke all on private.token_keys from public, anon, authenticated, service_role;

revoke execute on function private.derived_token(uuid, bytea) from public, anon, authenticated, service_role;

revoke execute on function private.invitation_delivery(uuid) from public, anon, authenticated;

grant execute on function private.invitation_delivery(uuid) to service_role;

revoke execute on function public.delete_workspace(uuid, text) from public, anon;

grant execute on function public.delete_workspace(uuid, text) to authenticated, service_role;

-- Data ----------------------------------------------------------------------------------

insert into private.timezone_names (name)
select tz.name from pg_catalog.pg_timezone_names as tz;

delete from private.timezone_names as t
where t.name <> all(array[
    '',
    'Africa/Abidjan',
    'Africa/Accra',
    'Africa/Addis_Ababa',
    'Africa/Algiers',
    'Africa/Asmara',
    'Africa/Bamako',
    'Africa/Bangui',
    'Africa/Banjul',
    'Africa/Bissau',
    'Africa/Blantyre',
    'Africa/Brazzaville',
    'Africa/Bujumbura',
    'Africa/Cairo',
    'Africa/Casablanca',
    'Africa/Ceuta',
    'Africa/Conakry',
    'Africa/Dakar',
    'Africa/Dar_es_Salaam',
    'Africa/Djibouti',
    'Africa/Douala',
    'Africa/El_Aaiun',
    'Africa/Freetown',
    'Africa/Gaborone',
    'Africa/Harare',
    'Africa/Johannesburg',
    'Africa/Juba',
    'Africa/Kampala',
    'Africa/Khartoum',
    'Africa/Kigali',
    'Africa/Kinshasa',
    'Africa/Lagos',
    'Africa/Libreville',
    'Africa/Lome',
    'Africa/Luanda',
    'Africa/Lubumbashi',
    'Africa/Lusaka',
    'Africa/Malabo',
    'Africa/Maputo',
    'Africa/Maseru',
    'Africa/Mbabane',
    'Africa/Mogadishu',
    'Africa/Monrovia',
    'Africa/Nairobi',
    'Africa/Ndjamena',
    'Africa/Niamey',
    'Africa/Nouakchott',
    'Africa/Ouagadougou',
    'Africa/Porto-Novo',
    'Africa/Sao_Tome',
    'Africa/Tripoli',
    'Africa/Tunis',
    'Africa/Windhoek',
    'America/Adak',
    'America/Anchorage',
    'America/Anguilla',
    'America/Antigua',
    'America/Araguaina',
    'America/Argentina/Buenos_Aires',
    'America/Argentina/Catamarca',
    'America/Argentina/Cordoba',
    'America/Argentina/Jujuy',
    'America/Argentina/La_Rioja',
    'America/Argentina/Mendoza',
    'America/Argentina/Rio_Gallegos',
    'America/Argentina/Salta',
    'America/Argentina/San_Juan',
    'America/Argentina/San_Luis',
    'America/Argentina/Tucuman',
    'America/Argentina/Ushuaia',
    'America/Aruba',
    'America/Asuncion',
    'America/Atikokan',
    'America/Bahia',
    'America/Bahia_Banderas',
    'America/Barbados',
    'America/Belem',
    'America/Belize',
    'America/Blanc-Sablon',
    'America/Boa_Vista',
    'America/Bogota',
    'America/Boise',
    'America/Cambridge_Bay',
    'America/Campo_Grande',
    'America/Cancun',
    'America/Caracas',
    'America/Cayenne',
    'America/Cayman',
    'America/Chicago',
    'America/Chihuahua',
    'America/Ciudad_Juarez',
    'America/Costa_Rica',
    'America/Coyhaique',
    'America/Creston',
    'America/Cuiaba',
    'America/Curacao',
    'America/Danmarkshavn',
    'America/Dawson',
    'America/Dawson_Creek',
    'America/Denver',
    'America/Detroit',
    'America/Dominica',
    'America/Edmonton',
    'America/Eirunepe',
    'America/El_Salvador',
    'America/Fort_Nelson',
    'America/Fortaleza',
    'America/Glace_Bay',
    'America/Goose_Bay',
    'America/Grand_Turk',
    'America/Grenada',
    'America/Guadeloupe',
    'America/Guatemala',
    'America/Guayaquil',
    'America/Guyana',
    'America/Halifax',
    'America/Havana',
    'America/Hermosillo',
    'America/Indiana/Indianapolis',
    'America/Indiana/Knox',
    'America/Indiana/Marengo',
    'America/Indiana/Petersburg',
    'America/Indiana/Tell_City',
    'America/Indiana/Vevay',
    'America/Indiana/Vincennes',
    'America/Indiana/Winamac',
    'America/Inuvik',
    'America/Iqaluit',
    'America/Jamaica',
    'America/Juneau',
    'America/Kentucky/Louisville',
    'America/Kentucky/Monticello',
    'America/Kralendijk',
    'America/La_Paz',
    'America/Lima',
    'America/Los_Angeles',
    'America/Lower_Princes',
    'America/Maceio',
    'America/Managua',
    'America/Manaus',
    'America/Marigot',
    'America/Martinique',
    'America/Matamoros',
    'America/Mazatlan',
    'America/Menominee',
    'America/Merida',
    'America/Metlakatla',
    'America/Mexico_City',
    'America/Miquelon',
    'America/Moncton',
    'America/Monterrey',
    'America/Montevideo',
    'America/Montserrat',
    'America/Nassau',
    'America/New_York',
    'America/Nome',
    'America/Noronha',
    'America/North_Dakota/Beulah',
    'America/North_Dakota/Center',
    'America/North_Dakota/New_Salem',
    'America/Nuuk',
    'America/Ojinaga',
    'America/Panama',
    'America/Paramaribo',
    'America/Phoenix',
    'America/Port-au-Prince',
    'America/Port_of_Spain',
    'America/Porto_Velho',
    'America/Puerto_Rico',
    'America/Punta_Arenas',
    'America/Rankin_Inlet',
    'America/Recife',
    'America/Regina',
    'America/Resolute',
    'America/Rio_Branco',
    'America/Santarem',
    'America/Santiago',
    'America/Santo_Domingo',
    'America/Sao_Paulo',
    'America/Scoresbysund',
    'America/Sitka',
    'America/St_Barthelemy',
    'America/St_Johns',
    'America/St_Kitts',
    'America/St_Lucia',
    'America/St_Thomas',
    'America/St_Vincent',
    'America/Swift_Current',
    'America/Tegucigalpa',
    'America/Thule',
    'America/Tijuana',
    'America/Toronto',
    'America/Tortola',
    'America/Vancouver',
    'America/Whitehorse',
    'America/Winnipeg',
    'America/Yakutat',
    'Antarctica/Casey',
    'Antarctica/Davis',
    'Antarctica/DumontDUrville',
    'Antarctica/Macquarie',
    'Antarctica/Mawson',
    'Antarctica/McMurdo',
    'Antarctica/Palmer',
    'Antarctica/Rothera',
    'Antarctica/Syowa',
    'Antarctica/Troll',
    'Antarctica/Vostok',
    'Arctic/Longyearbyen',
    'Asia/Aden',
    'Asia/Almaty',
    'Asia/Amman',
    'Asia/Anadyr',
    'Asia/Aqtau',
    'Asia/Aqtobe',
    'Asia/Ashgabat',
    'Asia/Atyrau',
    'Asia/Baghdad',
    'Asia/Bahrain',
    'Asia/Baku',
    'Asia/Bangkok',
    'Asia/Barnaul',
    'Asia/Beirut',
    'Asia/Bishkek',
    'Asia/Brunei',
    'Asia/Chita',
    'Asia/Colombo',
    'Asia/Damascus',
    'Asia/Dhaka',
    'Asia/Dili',
    'Asia/Dubai',
    'Asia/Dushanbe',
    'Asia/Famagusta',
    'Asia/Gaza',
    'Asia/Hebron',
    'Asia/Ho_Chi_Minh',
    'Asia/Hong_Kong',
    'Asia/Hovd',
    'Asia/Irkutsk',
    'Asia/Jakarta',
    'Asia/Jayapura',
    'Asia/Jerusalem',
    'Asia/Kabul',
    'Asia/Kamchatka',
    'Asia/Karachi',
    'Asia/Kathmandu',
    'Asia/Khandyga',
    'Asia/Kolkata',
    'Asia/Krasnoyarsk',
    'Asia/Kuala_Lumpur',
    'Asia/Kuching',
    'Asia/Kuwait',
    'Asia/Macau',
    'Asia/Magadan',
    'Asia/Makassar',
    'Asia/Manila',
    'Asia/Muscat',
    'Asia/Nicosia',
    'Asia/Novokuznetsk',
    'Asia/Novosibirsk',
    'Asia/Omsk',
    'Asia/Oral',
    'Asia/Phnom_Penh',
    'Asia/Pontianak',
    'Asia/Pyongyang',
    'Asia/Qatar',
    'Asia/Qostanay',
    'Asia/Qyzylorda',
    'Asia/Riyadh',
    'Asia/Sakhalin',
    'Asia/Samarkand',
    'Asia/Seoul',
    'Asia/Shanghai',
    'Asia/Singapore',
    'Asia/Srednekolymsk',
    'Asia/Taipei',
    'Asia/Tashkent',
    'Asia/Tbilisi',
    'Asia/Tehran',
    'Asia/Thimphu',
    'Asia/Tokyo',
    'Asia/Tomsk',
    'Asia/Ulaanbaatar',
    'Asia/Urumqi',
    'Asia/Ust-Nera',
    'Asia/Vientiane',
    'Asia/Vladivostok',
    'Asia/Yakutsk',
    'Asia/Yangon',
    'Asia/Yekaterinburg',
    'Asia/Yerevan',
    'Atlantic/Azores',
    'Atlantic/Bermuda',
    'Atlantic/Canary',
    'Atlantic/Cape_Verde',
    'Atlantic/Faroe',
    'Atlantic/Madeira',
    'Atlantic/Reykjavik',
    'Atlantic/South_Georgia',
    'Atlantic/St_Helena',
    'Atlantic/Stanley',
    'Australia/Adelaide',
    'Australia/Brisbane',
    'Australia/Broken_Hill',
    'Australia/Darwin',
    'Australia/Eucla',
    'Australia/Hobart',
    'Australia/Lindeman',
    'Australia/Lord_Howe',
    'Australia/Melbourne',
    'Australia/Perth',
    'Australia/Sydney',
    'Europe/Amsterdam',
    'Europe/Andorra',
    'Europe/Astrakhan',
    'Europe/Athens',
    'Europe/Belgrade',
    'Europe/Berlin',
    'Europe/Bratislava',
    'Europe/Brussels',
    'Europe/Bucharest',
    'Europe/Budapest',
    'Europe/Busingen',
    'Europe/Chisinau',
    'Europe/Copenhagen',
    'Europe/Dublin',
    'Europe/Gibraltar',
    'Europe/Guernsey',
    'Europe/Helsinki',
    'Europe/Isle_of_Man',
    'Europe/Istanbul',
    'Europe/Jersey',
    'Europe/Kaliningrad',
    'Europe/Kirov',
    'Europe/Kyiv',
    'Europe/Lisbon',
    'Europe/Ljubljana',
    'Europe/London',
    'Europe/Luxembourg',
    'Europe/Madrid',
    'Europe/Malta',
    'Europe/Mariehamn',
    'Europe/Minsk',
    'Europe/Monaco',
    'Europe/Moscow',
    'Europe/Oslo',
    'Europe/Paris',
    'Europe/Podgorica',
    'Europe/Prague',
    'Europe/Riga',
    'Europe/Rome',
    'Europe/Samara',
    'Europe/San_Marino',
    'Europe/Sarajevo',
    'Europe/Saratov',
    'Europe/Simferopol',
    'Europe/Skopje',
    'Europe/Sofia',
    'Europe/Stockholm',
    'Europe/Tallinn',
    'Europe/Tirane',
    'Europe/Ulyanovsk',
    'Europe/Vaduz',
    'Europe/Vatican',
    'Europe/Vienna',
    'Europe/Vilnius',
    'Europe/Volgograd',
    'Europe/Warsaw',
    'Europe/Zagreb',
    'Europe/Zurich',
    'Indian/Antananarivo',
    'Indian/Chagos',
    'Indian/Christmas',
    'Indian/Cocos',
    'Indian/Comoro',
    'Indian/Kerguelen',
    'Indian/Mahe',
    'Indian/Maldives',
    'Indian/Mauritius',
    'Indian/Mayotte',
    'Indian/Reunion',
    'Pacific/Apia',
    'Pacific/Auckland',
    'Pacific/Bougainville',
    'Pacific/Chatham',
    'Pacific/Chuuk',
    'Pacific/Easter',
    'Pacific/Efate',
    'Pacific/Fakaofo',
    'Pacific/Fiji',
    'Pacific/Funafuti',
    'Pacific/Galapagos',
    'Pacific/Gambier',
    'Pacific/Guadalcanal',
    'Pacific/Guam',
    'Pacific/Honolulu',
    'Pacific/Kanton',
    'Pacific/Kiritimati',
    'Pacific/Kosrae',
    'Pacific/Kwajalein',
    'Pacific/Majuro',
    'Pacific/Marquesas',
    'Pacific/Midway',
    'Pacific/Nauru',
    'Pacific/Niue',
    'Pacific/Norfolk',
    'Pacific/Noumea',
    'Pacific/Pago_Pago',
    'Pacific/Palau',
    'Pacific/Pitcairn',
    'Pacific/Pohnpei',
    'Pacific/Port_Moresby',
    'Pacific/Rarotonga',
    'Pacific/Saipan',
    'Pacific/Tahiti',
    'Pacific/Tarawa',
    'Pacific/Tongatapu',
    'Pacific/Wake',
    'Pacific/Wallis',
    'TZ',
    'UTC'
]::text[]);

insert into private.token_keys default values;

insert into private.error_codes (code, http_status, description) values
(
    'too_many_open_invitations',
    409,
    'This workspace already has 100 open invitations; revoke some or wait for them to expire.'
),
('invitation_rate_limited', 429, 'You sent 30 invitations in the last hour; try again later.'),
('confirmation_mismatch', 400, 'To delete a workspace, confirm with its slug exactly as it is.');
