-- The public booking page: what anon sees of an active workspace (anon reads no table).

create function public.get_booking_page(p_workspace_slug text)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    v_workspace public.workspaces;
begin
    select w.* into v_workspace
    from public.workspaces as w
    where w.slug = pg_catalog.lower(pg_catalog.btrim(p_workspace_slug)) and w.status = 'active';
    if not found then
        -- Unknown, draft and suspended workspaces look the same.
        perform private.raise_error('not_found', 'No bookable workspace has this address.');
    end if;
    return jsonb_build_object(
        'workspace', jsonb_build_object(
            'name', v_workspace.name,
            'slug', v_workspace.slug,
            'timezone', v_workspace.timezone
        ),
        'booking_types', coalesce((
            select jsonb_agg(
                jsonb_build_object(
                    'id', bt.id,
                    'name', bt.name,
                    'description', bt.description,
                    'duration_minutes', bt.duration_minutes,
                    'location', bt.location,
                    'practitioners', performers.list
                )
                order by bt.name, bt.id
            )
            from public.booking_types as bt
            cross join lateral (
                select jsonb_agg(
                    jsonb_build_object('id', p.id, 'display_name', pr.full_name)
                    order by pr.full_name, p.id
                ) as list
                from public.booking_type_practitioners as btp
                inner join public.practitioners as p
                    on p.workspace_id = btp.workspace_id and p.id = btp.practitioner_id
                inner join public.profiles as pr on pr.id = p.user_id
                where btp.workspace_id = bt.workspace_id and btp.booking_type_id = bt.id and p.active
            ) as performers
            where bt.workspace_id = v_workspace.id and bt.active and performers.list is not null
        ), '[]'::jsonb)
    );
end
$$;

comment on function public.get_booking_page(text) is
'The public booking page of an active workspace: {workspace: {name, slug, timezone}, booking_types: [{id, name, '
'description, duration_minutes, location, practitioners: [{id, display_name}]}]}. Lists active booking types that '
'an active practitioner performs; a practitioner shows only their practitioner id and profile full name. '
'Errors: not_found (unknown, draft or suspended workspace alike).';

revoke execute on function public.get_booking_page(text) from public;
grant execute on function public.get_booking_page(text) to anon, authenticated, service_role;
