-- Cancel and reschedule: by manage token (anon, the customer) and by booking id
-- (staff and owners of the workspace). Both paths share one implementation and its rules:
-- only confirmed bookings that have not started; a cancellation frees the time; a move
-- is atomic (the new slot is taken, with the same practitioner when free or another who
-- performs the type, or nothing changes). A move keeps the booking's id and manage token.

insert into private.error_codes (code, http_status, description) values
('booking_cancelled', 409, 'The booking is already cancelled.'),
('booking_past', 409, 'The booking has started or is over; it can no longer change.'),
('workspace_inactive', 409, 'The workspace does not take bookings at the moment.'),
(
    'invalid_reason',
    400,
    'A reason has at most 500 characters, at least one visible, no control characters but line breaks and tabs.'
);

-- Locks the booking and checks that it may still change; returns it.
create function private.lock_changeable_booking(p_booking_id uuid)
returns public.bookings
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_booking public.bookings;
begin
    select b.* into v_booking from public.bookings as b where b.id = p_booking_id for no key update;
    if v_booking.id is null then
        perform private.raise_error('not_found', 'No booking matches.');
    end if;
    if v_booking.status = 'cancelled' then
        perform private.raise_error('booking_cancelled');
    end if;
    if v_booking.status <> 'confirmed' or v_booking.starts_at <= pg_catalog.now() then
        perform private.raise_error('booking_past');
    end if;
    return v_booking;
end
$$;

comment on function private.lock_changeable_booking(uuid) is
'Locks a booking that may still change, or raises not_found, booking_cancelled or booking_past.';

create function private.cancel_booking(p_booking_id uuid, p_reason text, p_cancelled_by uuid)
returns public.bookings
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_reason text;
    v_booking public.bookings;
begin
    perform private.lock_changeable_booking(p_booking_id);
    if char_length(p_reason) > 10000 then
        perform private.raise_error('invalid_reason');
    end if;
    if p_reason is not null and pg_catalog.btrim(p_reason) <> '' then
        v_reason := private.clean_multiline_text(p_reason, 500, 'invalid_reason');
    end if;
    update public.bookings as b
    set status = 'cancelled', cancelled_at = pg_catalog.now(), cancelled_by = p_cancelled_by,
        cancellation_reason = v_reason
    where b.id = p_booking_id
    returning b.* into v_booking;
    return v_booking;
end
$$;

comment on function private.cancel_booking(uuid, text, uuid) is
'Cancels a confirmed future booking (its time is free again). Errors: not_found, booking_cancelled, booking_past, '
'invalid_reason.';

create function private.reschedule_booking(p_booking_id uuid, p_new_starts_at timestamptz, p_practitioner_id uuid)
returns public.bookings
language plpgsql
volatile
security definer
set search_path = ''
-- Plans of these queries do not depend on the values: plan once, not per call.
set plan_cache_mode = force_generic_plan
as $$
declare
    v_booking public.bookings := private.lock_changeable_booking(p_booking_id);
    v_workspace public.workspaces;
    v_type public.booking_types;
    v_candidates uuid [];
    v_candidate uuid;
    v_moved public.bookings;
begin
    select w.* into v_workspace from public.workspaces as w where w.id = v_booking.workspace_id;
    if v_workspace.status <> 'active' then
        perform private.raise_error('workspace_inactive');
    end if;
    select t.* into v_type from public.booking_types as t where t.id = v_booking.booking_type_id;
    if p_practitioner_id is not null and not exists (
        select 1
        from public.booking_type_practitioners as btp
        inner join public.practitioners as p on btp.practitioner_id = p.id
        where btp.booking_type_id = v_type.id and p.id = p_practitioner_id and p.active
    ) then
        perform private.raise_error('not_found', 'Nobody by this id performs this booking type.');
    end if;
    v_candidates := private.bookable_practitioners(
        v_workspace.id, v_workspace.timezone, v_type, p_new_starts_at, p_practitioner_id,
        v_booking.practitioner_id, v_booking.id
    );
    foreach v_candidate in array v_candidates loop
        begin
            update public.bookings as b
            set
                starts_at = p_new_starts_at,
                ends_at = p_new_starts_at + v_type.duration_minutes * interval '1 minute',
                buffer_before_minutes = v_type.buffer_before_minutes,
                buffer_after_minutes = v_type.buffer_after_minutes,
                practitioner_id = v_candidate
            where b.id = v_booking.id
            returning b.* into v_moved;
            exit;
        exception when exclusion_violation then
            -- A concurrent booking took this practitioner first: try the next one.
            null;
        end;
    end loop;
    if v_moved.id is null then
        perform private.raise_error('slot_unavailable');
    end if;
    return v_moved;
end
$$;

comment on function private.reschedule_booking(uuid, timestamptz, uuid) is
'Moves a confirmed future booking to a new start under the booking rules, same practitioner first; all or nothing. '
'Errors: not_found, booking_cancelled, booking_past, workspace_inactive, outside_availability, too_soon, '
'too_far_ahead, slot_unavailable.';

-- The booking a manage token opens, or not_found.
create function private.booking_id_by_token(p_token text)
returns uuid
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    v_booking_id uuid;
begin
    if p_token is not null and char_length(p_token) between 1 and 200 then
        select b.id into v_booking_id from public.bookings as b where b.manage_token_hash = private.token_hash(p_token);
    end if;
    if v_booking_id is null then
        perform private.raise_error('not_found', 'No booking matches this link.');
    end if;
    return v_booking_id;
end
$$;

comment on function private.booking_id_by_token(text) is
'The booking whose manage token this is, or not_found.';

-- The booking of the caller's workspace (staff or owner), or not_found/forbidden.
create function private.workspace_booking_id(p_booking_id uuid)
returns uuid
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    v_workspace_id uuid;
begin
    if (select auth.uid()) is null then
        perform private.raise_error('not_authenticated');
    end if;
    select b.workspace_id into v_workspace_id from public.bookings as b where b.id = p_booking_id;
    if v_workspace_id is null or not private.is_member(v_workspace_id) then
        perform private.raise_error('not_found', 'No such booking in your workspaces.');
    end if;
    perform private.require_role(v_workspace_id, 'staff');
    return p_booking_id;
end
$$;

comment on function private.workspace_booking_id(uuid) is
'The booking id when the caller is staff or owner of its workspace; else not_authenticated or not_found.';

revoke execute on function
private.lock_changeable_booking(uuid),
private.cancel_booking(uuid, text, uuid),
private.reschedule_booking(uuid, timestamptz, uuid),
private.booking_id_by_token(text),
private.workspace_booking_id(uuid)
from public;
grant execute on function
private.lock_changeable_booking(uuid),
private.cancel_booking(uuid, text, uuid),
private.reschedule_booking(uuid, timestamptz, uuid),
private.booking_id_by_token(text),
private.workspace_booking_id(uuid)
to service_role;

-- Public (manage token) -------------------------------------------------------------------

create function public.cancel_booking(
    p_token text,
    p_reason text default null,
    out booking_id uuid,
    out status text,
    out starts_at timestamptz
)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_booking public.bookings;
begin
    v_booking := private.cancel_booking(private.booking_id_by_token(p_token), p_reason, null);
    booking_id := v_booking.id;
    status := v_booking.status;
    starts_at := v_booking.starts_at;
end
$$;

comment on function public.cancel_booking(text, text) is
'The customer cancels with the manage token from book_appointment. Errors: not_found, booking_cancelled, '
'booking_past, invalid_reason.';

create function public.reschedule_booking(
    p_token text,
    p_new_starts_at timestamptz,
    out booking_id uuid,
    out starts_at timestamptz,
    out ends_at timestamptz,
    out practitioner_id uuid,
    out practitioner_name text
)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_booking public.bookings;
begin
    v_booking := private.reschedule_booking(private.booking_id_by_token(p_token), p_new_starts_at, null);
    booking_id := v_booking.id;
    starts_at := v_booking.starts_at;
    ends_at := v_booking.ends_at;
    practitioner_id := v_booking.practitioner_id;
    select pr.full_name into practitioner_name
    from public.practitioners as p
    inner join public.profiles as pr on p.user_id = pr.id
    where p.id = v_booking.practitioner_id;
end
$$;

comment on function public.reschedule_booking(text, timestamptz) is
'The customer moves a booking with its manage token (the token stays valid). Errors: not_found, '
'booking_cancelled, booking_past, workspace_inactive, outside_availability, too_soon, too_far_ahead, '
'slot_unavailable.';

-- Staff and owners (booking id, under their membership) -------------------------------------

create function public.cancel_workspace_booking(
    p_booking_id uuid,
    p_reason text default null,
    out booking_id uuid,
    out status text,
    out starts_at timestamptz
)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_booking public.bookings;
begin
    v_booking := private.cancel_booking(
        private.workspace_booking_id(p_booking_id), p_reason, (select auth.uid())
    );
    booking_id := v_booking.id;
    status := v_booking.status;
    starts_at := v_booking.starts_at;
end
$$;

comment on function public.cancel_workspace_booking(uuid, text) is
'Staff or an owner cancels a booking of their workspace. Errors: not_authenticated, not_found, booking_cancelled, '
'booking_past, invalid_reason.';

create function public.reschedule_workspace_booking(
    p_booking_id uuid,
    p_new_starts_at timestamptz,
    p_staff_id uuid default null,
    out booking_id uuid,
    out starts_at timestamptz,
    out ends_at timestamptz,
    out practitioner_id uuid,
    out practitioner_name text
)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_booking public.bookings;
begin
    v_booking := private.reschedule_booking(
        private.workspace_booking_id(p_booking_id), p_new_starts_at, p_staff_id
    );
    booking_id := v_booking.id;
    starts_at := v_booking.starts_at;
    ends_at := v_booking.ends_at;
    practitioner_id := v_booking.practitioner_id;
    select pr.full_name into practitioner_name
    from public.practitioners as p
    inner join public.profiles as pr on p.user_id = pr.id
    where p.id = v_booking.practitioner_id;
end
$$;

comment on function public.reschedule_workspace_booking(uuid, timestamptz, uuid) is
'Staff or an owner moves a booking of their workspace under the booking rules (p_staff_id picks the practitioner). '
'Errors: not_authenticated, not_found, booking_cancelled, booking_past, workspace_inactive, outside_availability, '
'too_soon, too_far_ahead, slot_unavailable.';

revoke execute on function
public.cancel_booking(text, text),
public.reschedule_booking(text, timestamptz),
public.cancel_workspace_booking(uuid, text),
public.reschedule_workspace_booking(uuid, timestamptz, uuid)
from public;
grant execute on function
public.cancel_booking(text, text),
public.reschedule_booking(text, timestamptz)
to anon, authenticated, service_role;
grant execute on function
public.cancel_workspace_booking(uuid, text),
public.reschedule_workspace_booking(uuid, timestamptz, uuid)
to authenticated, service_role;
