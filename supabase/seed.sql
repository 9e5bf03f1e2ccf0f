-- Demo data for make dev (and `supabase db reset`). Idempotent: safe to load again.
-- Sign-ins (under `supabase start`): owner@demo.careops.test, staff@demo.careops.test and
-- therapist@demo.careops.test, password careops-demo. The workspace is active: its public
-- page is get_booking_page('demo-clinic').

insert into auth.users (
    instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
    raw_app_meta_data, raw_user_meta_data, created_at, updated_at
)
values
(
    '00000000-0000-0000-0000-000000000000', 'd0000000-0000-4000-8000-000000000001',
    'authenticated', 'authenticated', 'owner@demo.careops.test',
    extensions.crypt('careops-demo', extensions.gen_salt('bf')), now(),
    '{"provider": "email", "providers": ["email"]}', '{"full_name": "Olivia Owner"}', now(), now()
),
(
    '00000000-0000-0000-0000-000000000000', 'd0000000-0000-4000-8000-000000000002',
    'authenticated', 'authenticated', 'staff@demo.careops.test',
    extensions.crypt('careops-demo', extensions.gen_salt('bf')), now(),
    '{"provider": "email", "providers": ["email"]}', '{"full_name": "Sam Staff"}', now(), now()
),
(
    '00000000-0000-0000-0000-000000000000', 'd0000000-0000-4000-8000-000000000003',
    'authenticated', 'authenticated', 'therapist@demo.careops.test',
    extensions.crypt('careops-demo', extensions.gen_salt('bf')), now(),
    '{"provider": "email", "providers": ["email"]}', '{"full_name": "Tara Therapist"}', now(), now()
)
on conflict (id) do nothing;

insert into public.workspaces (id, name, slug, timezone, created_by)
values (
    'd0000000-0000-4000-8000-0000000000a1', 'Demo Clinic', 'demo-clinic', 'Europe/London',
    'd0000000-0000-4000-8000-000000000001'
)
on conflict (id) do nothing;

-- The owner joins with their practitioner row under a known id (...b1), so fixtures and the
-- demo can name it: the creator trigger, firing at the end of this statement, finds it there.
with owner_member as (
    insert into public.workspace_members (workspace_id, user_id, role)
    values ('d0000000-0000-4000-8000-0000000000a1', 'd0000000-0000-4000-8000-000000000001', 'owner')
    on conflict (workspace_id, user_id) do nothing
    returning workspace_id, user_id
)

insert into public.practitioners (id, workspace_id, user_id)
select
    'd0000000-0000-4000-8000-0000000000b1' as id,
    owner_member.workspace_id,
    owner_member.user_id
from owner_member
on conflict do nothing;

insert into public.workspace_members (workspace_id, user_id, role)
values
('d0000000-0000-4000-8000-0000000000a1', 'd0000000-0000-4000-8000-000000000002', 'staff'),
('d0000000-0000-4000-8000-0000000000a1', 'd0000000-0000-4000-8000-000000000003', 'staff')
on conflict (workspace_id, user_id) do nothing;

-- Communication: email from the clinic (SMS stays off until a number is set).
update public.communication_settings
set sender_name = 'Demo Clinic', sender_email = 'hello@demo.careops.test'
where workspace_id = 'd0000000-0000-4000-8000-0000000000a1' and sender_email is null;

-- The demo's sender identities, verified as the platform does in production once the clinic
-- proved control (docs/backend.md, "Sender identities"): its domain and address, and Twilio's test number.
insert into public.sender_identities (workspace_id, kind, value, status)
select
    'd0000000-0000-4000-8000-0000000000a1'::uuid as workspace_id,
    v.kind,
    v.value,
    'verified' as status
from (
    values
    ('email_domain', 'demo.careops.test'),
    ('email_address', 'hello@demo.careops.test'),
    ('sms_number', '+15005550006')
) as v (kind, value)
where not exists (
    select 1 from public.sender_identities as i
    where i.kind = v.kind and i.value = v.value and i.status = 'verified'
);

-- Practitioners: the owner is one from the start (...b1, above); both staff take bookings too.
insert into public.practitioners (id, workspace_id, user_id)
values
(
    'd0000000-0000-4000-8000-0000000000b2',
    'd0000000-0000-4000-8000-0000000000a1',
    'd0000000-0000-4000-8000-000000000002'
),
('d0000000-0000-4000-8000-0000000000b3', 'd0000000-0000-4000-8000-0000000000a1', 'd0000000-0000-4000-8000-000000000003')
on conflict (workspace_id, user_id) do nothing;

-- Weekly hours (ISO weekdays, Europe/London wall clock): Olivia and Sam Monday to Friday
-- with a lunch break; Tara Monday, Tuesday, Thursday, Friday and Saturday morning, never Wednesday.
insert into public.availability_rules (workspace_id, practitioner_id, weekday, start_time, end_time)
with hours as (
    select
        email,
        weekday::smallint as weekday,  -- noqa: RF04
        start_time::time as start_time,
        end_time::time as end_time
    from (
        values
        ('owner@demo.careops.test', 1, '09:00', '12:30'), ('owner@demo.careops.test', 1, '13:30', '17:00'),
        ('owner@demo.careops.test', 2, '09:00', '12:30'), ('owner@demo.careops.test', 2, '13:30', '17:00'),
        ('owner@demo.careops.test', 3, '09:00', '12:30'), ('owner@demo.careops.test', 3, '13:30', '17:00'),
        ('owner@demo.careops.test', 4, '09:00', '12:30'), ('owner@demo.careops.test', 4, '13:30', '17:00'),
        ('owner@demo.careops.test', 5, '09:00', '12:30'), ('owner@demo.careops.test', 5, '13:30', '17:00'),
        ('staff@demo.careops.test', 1, '08:00', '12:00'), ('staff@demo.careops.test', 1, '13:00', '16:00'),
        ('staff@demo.careops.test', 2, '08:00', '12:00'), ('staff@demo.careops.test', 2, '13:00', '16:00'),
        ('staff@demo.careops.test', 3, '08:00', '12:00'), ('staff@demo.careops.test', 3, '13:00', '16:00'),
        ('staff@demo.careops.test', 4, '08:00', '12:00'), ('staff@demo.careops.test', 4, '13:00', '16:00'),
        ('staff@demo.careops.test', 5, '08:00', '12:00'), ('staff@demo.careops.test', 5, '13:00', '16:00'),
        ('therapist@demo.careops.test', 1, '10:00', '18:00'),
        ('therapist@demo.careops.test', 2, '10:00', '18:00'),
        ('therapist@demo.careops.test', 4, '10:00', '18:00'),
        ('therapist@demo.careops.test', 5, '10:00', '18:00'),
        ('therapist@demo.careops.test', 6, '09:00', '13:00')
    ) as v (email, weekday, start_time, end_time)
)

select
    p.workspace_id,
    p.id,
    hours.weekday,
    hours.start_time,
    hours.end_time
from public.practitioners as p
inner join hours on true
inner join public.profiles as pr on p.user_id = pr.id and hours.email = pr.email
where
    p.workspace_id = 'd0000000-0000-4000-8000-0000000000a1'
    and not exists (
        select 1 from public.availability_rules as r
        where r.practitioner_id = p.id and r.weekday = hours.weekday and r.start_time = hours.start_time
    );

-- Sam takes a day off a week from the first load; the clinic closes on Christmas Day.
insert into public.availability_overrides (workspace_id, practitioner_id, override_date, note)
select
    p.workspace_id,
    p.id as practitioner_id,
    current_date + 7 as override_date,
    'Day off' as note
from public.practitioners as p
where
    p.id = 'd0000000-0000-4000-8000-0000000000b2'
    and not exists (
        select 1 from public.availability_overrides as o
        where o.practitioner_id = p.id
    );

insert into public.workspace_closures (workspace_id, closed_on, note)
values (
    'd0000000-0000-4000-8000-0000000000a1',
    make_date(extract(year from current_date)::int, 12, 25),
    'Christmas Day'
)
on conflict (workspace_id, closed_on) do nothing;

-- Booking types: the massage is Tara's alone.
insert into public.booking_types (
    id, workspace_id, name, description, duration_minutes, buffer_before_minutes, buffer_after_minutes,
    min_notice_minutes, max_days_ahead, slot_interval_minutes, location
)
values
(
    'd0000000-0000-4000-8000-0000000000c1', 'd0000000-0000-4000-8000-0000000000a1', 'Initial consultation',
    'A first visit: history, assessment and a plan.', 60, 0, 15, 240, 60, 30, '1 Demo Street, London'
),
(
    'd0000000-0000-4000-8000-0000000000c2', 'd0000000-0000-4000-8000-0000000000a1', 'Follow-up visit',
    'Checking progress against the plan.', 30, 0, 10, 120, 60, null, '1 Demo Street, London'
),
(
    'd0000000-0000-4000-8000-0000000000c3', 'd0000000-0000-4000-8000-0000000000a1', 'Sports massage',
    'Deep tissue massage for recovery.', 45, 10, 15, 60, 30, null, '1 Demo Street, London'
)
on conflict (id) do nothing;

insert into public.booking_type_practitioners (workspace_id, booking_type_id, practitioner_id)
select
    bt.workspace_id,
    bt.id as booking_type_id,
    p.id as practitioner_id
from public.booking_types as bt
inner join public.practitioners as p on bt.workspace_id = p.workspace_id
inner join public.profiles as pr on p.user_id = pr.id
where
    bt.workspace_id = 'd0000000-0000-4000-8000-0000000000a1'
    and (
        (bt.id = 'd0000000-0000-4000-8000-0000000000c1')
        or (bt.id = 'd0000000-0000-4000-8000-0000000000c2' and pr.email <> 'therapist@demo.careops.test')
        or (bt.id = 'd0000000-0000-4000-8000-0000000000c3' and pr.email = 'therapist@demo.careops.test')
    )
on conflict (booking_type_id, practitioner_id) do nothing;

-- An intake form sent with every initial consultation.
insert into public.intake_forms (id, workspace_id, name, description, fields)
values (
    'd0000000-0000-4000-8000-0000000000e1', 'd0000000-0000-4000-8000-0000000000a1', 'New patient intake',
    'Please fill this in before your first visit.',
    '[
        {"key": "date_of_birth", "type": "date", "label": "Date of birth", "required": true},
        {"key": "reason", "type": "long_text", "label": "What brings you in?", "required": true},
        {"key": "phone", "type": "phone", "label": "Mobile number", "required": false},
        {"key": "referral", "type": "choice", "label": "How did you hear about us?", "required": false,
         "options": ["Friend", "Doctor", "Search engine", "Other"]},
        {"key": "consent", "type": "checkbox", "label": "I agree to the treatment terms", "required": true}
    ]'
)
on conflict (id) do nothing;

insert into public.booking_type_forms (workspace_id, booking_type_id, form_id)
values (
    'd0000000-0000-4000-8000-0000000000a1', 'd0000000-0000-4000-8000-0000000000c1',
    'd0000000-0000-4000-8000-0000000000e1'
)
on conflict (booking_type_id, form_id) do nothing;

-- Inventory: gloves sit just above their threshold.
insert into public.inventory_items (id, workspace_id, name, unit, quantity, low_stock_threshold)
values
(
    'd0000000-0000-4000-8000-0000000000f1', 'd0000000-0000-4000-8000-0000000000a1', 'Disposable gloves', 'pairs',
    12, 10
),
('d0000000-0000-4000-8000-0000000000f2', 'd0000000-0000-4000-8000-0000000000a1', 'Massage oil', 'ml', 2000, 500),
('d0000000-0000-4000-8000-0000000000f3', 'd0000000-0000-4000-8000-0000000000a1', 'Couch roll', 'rolls', 8, 2)
on conflict (id) do nothing;

insert into public.booking_type_inventory_usage (workspace_id, booking_type_id, item_id, quantity_per_booking)
values
(
    'd0000000-0000-4000-8000-0000000000a1', 'd0000000-0000-4000-8000-0000000000c1',
    'd0000000-0000-4000-8000-0000000000f1', 1
),
(
    'd0000000-0000-4000-8000-0000000000a1', 'd0000000-0000-4000-8000-0000000000c2',
    'd0000000-0000-4000-8000-0000000000f1', 1
),
(
    'd0000000-0000-4000-8000-0000000000a1', 'd0000000-0000-4000-8000-0000000000c3',
    'd0000000-0000-4000-8000-0000000000f2', 30
),
(
    'd0000000-0000-4000-8000-0000000000a1', 'd0000000-0000-4000-8000-0000000000c3',
    'd0000000-0000-4000-8000-0000000000f3', 0.1
)
on conflict (booking_type_id, item_id) do nothing;

-- Activate through the checklist, as the owner would: a seed that misses a requirement fails here.
do $$
declare
    v_report jsonb;
begin
    perform set_config(
        'request.jwt.claims',
        '{"sub": "d0000000-0000-4000-8000-000000000001", "role": "authenticated"}',
        true
    );
    v_report := public.activate_workspace('d0000000-0000-4000-8000-0000000000a1');
    perform set_config('request.jwt.claims', '', true);
    if not (v_report ->> 'activated')::boolean then
        raise exception 'the demo workspace cannot be activated: %', v_report -> 'missing';
    end if;
end
$$;
