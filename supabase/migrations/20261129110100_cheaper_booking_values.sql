-- The placeholder values of booking messages without per-row function calls (issue #8).
--
-- The join called private.public_url('') (a plpgsql function and its query) and
-- private.format_local_time twice for every booking: 3,000 plpgsql calls for a sweep of 1,000
-- due bookings. The link base and the manage token are read once per call; the local times
-- are the same expression as private.format_local_time, written in the query. Same values.
create or replace function private.booking_message_values(p_booking_ids uuid[])
returns table (booking_id uuid, template_values jsonb)
language plpgsql
stable
security definer
set search_path = ''
set plan_cache_mode = force_generic_plan
as $$
declare
    v_base_url text := private.public_url('');
    v_manage_token text := nullif(pg_catalog.current_setting('careops.manage_token', true), '');
begin
    -- plpgsql keeps this plan; a non-inlined SQL function is planned on every call.
    return query
    select
        b.id,
        pg_catalog.jsonb_build_object(
            'contact_name', c.name,
            'workspace_name', w.name,
            'booking_type_name', t.name,
            'practitioner_name', coalesce(nullif(p.full_name, ''), w.name),
            -- private.format_local_time(b.starts_at, w.timezone), inline
            'starts_at_local',
            pg_catalog.to_char(b.starts_at at time zone w.timezone, 'YYYY-MM-DD HH24:MI') || ' (' || w.timezone || ')',
            'ends_at_local',
            pg_catalog.to_char(b.ends_at at time zone w.timezone, 'YYYY-MM-DD HH24:MI') || ' (' || w.timezone || ')',
            'location', coalesce(t.location, w.name),
            'manage_url', coalesce(v_base_url || '/manage/' || v_manage_token, v_base_url || '/' || w.slug)
        )
    from public.bookings as b
    inner join public.workspaces as w on b.workspace_id = w.id
    inner join public.contacts as c on b.contact_id = c.id
    inner join public.booking_types as t on b.booking_type_id = t.id
    left join public.practitioners as pr on b.practitioner_id = pr.id
    left join public.profiles as p on pr.user_id = p.id
    where b.id = any(p_booking_ids);
end
$$;

comment on function private.booking_message_values(uuid[]) is
'The placeholder values of booking messages, per booking: contact, workspace, type, practitioner, local start and end, location, manage link.';
