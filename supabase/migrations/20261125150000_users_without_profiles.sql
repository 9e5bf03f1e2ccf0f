-- Users without a profile: backfill the auth users that predate the profile
-- trigger (a hosted project that already had users), and answer a signed-in
-- caller without a profile (a deleted account whose JWT is still valid, or a
-- profile missing for any other reason) with not_authenticated, never with a
-- constraint name.

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

revoke execute on function private.backfill_profiles() from public, anon, authenticated, service_role;

select private.backfill_profiles();

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

revoke execute on function private.require_user() from public;
grant execute on function private.require_user() to authenticated, service_role;

create or replace function private.require_role(p_workspace_id uuid, p_role text)
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

-- The membership row references the profile: hold it (key share) so that an
-- account deleted meanwhile answers not_authenticated, not a foreign key error.
create or replace function public.create_workspace(p_name text, p_slug text, p_timezone text)
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
