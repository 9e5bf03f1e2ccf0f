-- Dashboard stats: one security invoker function that returns everything the
-- staff dashboard shows in one round trip, under the caller's RLS.
--
-- public.dashboard_stats(p_workspace_id) is what supabase-js and edge_api call;
-- it asks private.dashboard_stats_at(p_workspace_id, now()), which takes the
-- instant as a parameter so tests can pin "today" (for example just before
-- and after midnight UTC in Pacific/Auckland). Later issues add sections
-- (bookings, leads, forms, inventory, alerts) with `create or replace` of
-- private.dashboard_stats_at; edge_api's response model already has them as
-- optional fields.

-- The workspace-local calendar day that contains p_at, and its bounds as
-- instants (23 or 25 hours long on DST change days).
create function private.local_day(p_timezone text, p_at timestamptz)
returns table (local_date date, starts_at timestamptz, ends_at timestamptz)
language sql
stable
security invoker
set search_path = ''
as $$
    select
        d.local_date,
        d.local_date::timestamp at time zone p_timezone,
        (d.local_date + 1)::timestamp at time zone p_timezone
    from (select (p_at at time zone p_timezone)::date as local_date) as d;
$$;

comment on function private.local_day(text, timestamptz) is
'The calendar day in time zone p_timezone that contains p_at: its date and its [starts_at, ends_at) instants.';

create function private.dashboard_stats_at(p_workspace_id uuid, p_at timestamptz)
returns jsonb
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
    v_is_service boolean := (select auth.role()) is not distinct from 'service_role';
    v_workspace public.workspaces;
    v_today date;
    v_stats jsonb;
begin
    if not v_is_service and (select auth.uid()) is null then
        perform private.raise_error('not_authenticated');
    end if;
    -- RLS decides: a workspace the caller is not a member of is not found.
    select w.* into v_workspace from public.workspaces as w where w.id = p_workspace_id;
    if not found then
        perform private.raise_error('not_found', 'No such workspace, or you are not a member of it.');
    end if;
    select d.local_date into v_today from private.local_day(v_workspace.timezone, p_at) as d;

    v_stats := pg_catalog.jsonb_build_object(
        'workspace', pg_catalog.jsonb_build_object(
            'id', v_workspace.id,
            'name', v_workspace.name,
            'timezone', v_workspace.timezone,
            'status', v_workspace.status,
            'today_local', v_today
        ),
        'members', (
            select pg_catalog.jsonb_build_object(
                'owners', count(*) filter (where m.role = 'owner'),
                'staff', count(*) filter (where m.role = 'staff')
            )
            from public.workspace_members as m
            where m.workspace_id = p_workspace_id
        ),
        -- Only owners read invitations: staff get null, not a misleading 0.
        'invitations', case when v_is_service or private.has_role(p_workspace_id, 'owner') then (
            select pg_catalog.jsonb_build_object('pending', count(*))
            from public.invitations as i
            where
                i.workspace_id = p_workspace_id
                and i.accepted_at is null
                and i.revoked_at is null
                and i.expires_at > p_at
        ) end
    );
    -- Sections of later issues go here, each one jsonb object computed with
    -- the day bounds of private.local_day (v_stats := v_stats || ...):
    -- bookings, leads, forms, inventory, alerts.
    return v_stats;
end
$$;

comment on function private.dashboard_stats_at(uuid, timestamptz) is
'dashboard_stats as of the instant p_at (tests pin it; the RPC passes now()). Errors: not_authenticated, not_found.';

create function public.dashboard_stats(p_workspace_id uuid)
returns jsonb
language sql
stable
security invoker
set search_path = ''
as $$
    select private.dashboard_stats_at(p_workspace_id, pg_catalog.now());
$$;

comment on function public.dashboard_stats(uuid) is
'The staff dashboard of a workspace in one call, under the caller''s RLS: {workspace: {id, name, timezone, status, today_local}, members: {owners, staff}, invitations: {pending} (null for staff)}; later sections: bookings, leads, forms, inventory, alerts. Errors: not_authenticated, not_found (also for workspaces the caller is not a member of).';

revoke execute on function
private.local_day(text, timestamptz),
private.dashboard_stats_at(uuid, timestamptz),
public.dashboard_stats(uuid)
from public, anon;

grant execute on function
private.local_day(text, timestamptz),
private.dashboard_stats_at(uuid, timestamptz),
public.dashboard_stats(uuid)
to authenticated, service_role;
