begin;
select plan(4);

-- private.booking_message_values builds the booking placeholders in one query (20261129110100):
-- the same values as private.format_local_time and private.public_url give.
select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select tests.create_workspace(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'north-clinic', '11111111-1111-1111-1111-111111111111', 'North Clinic',
    'America/New_York'
);
update private.app_settings set value = 'https://app.example.test/'
where key = 'public_base_url';
insert into public.booking_types (id, workspace_id, name, duration_minutes)
values ('b0000000-0000-0000-0000-000000000001', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'Massage', 45);
insert into public.contacts (id, workspace_id, name, email) values
('c0000000-0000-0000-0000-00000000000a', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'Ann Lee', 'ann@example.test');
-- Across a daylight saving change in New York (2030-11-03 02:00 EDT -> 01:00 EST).
insert into public.bookings (id, workspace_id, booking_type_id, practitioner_id, contact_id, starts_at, ends_at)
values
(
    'b1000000-0000-0000-0000-000000000001', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa',
    'b0000000-0000-0000-0000-000000000001',
    (
        select p.id from public.practitioners as p
        where p.workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'
    ),
    'c0000000-0000-0000-0000-00000000000a', '2030-11-03 05:30:00+00', '2030-11-03 06:15:00+00'
),
(
    'b1000000-0000-0000-0000-000000000002', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa',
    'b0000000-0000-0000-0000-000000000001', null,
    'c0000000-0000-0000-0000-00000000000a', '2030-12-24 23:45:00+00', '2030-12-25 00:30:00+00'
);

select is(
    (
        select v.template_values
        from private.booking_message_values(array['b1000000-0000-0000-0000-000000000001'::uuid]) as v
    ),
    jsonb_build_object(
        'contact_name', 'Ann Lee',
        'workspace_name', 'North Clinic',
        'booking_type_name', 'Massage',
        'practitioner_name', 'Olive Owner',
        'starts_at_local', private.format_local_time('2030-11-03 05:30:00+00', 'America/New_York'),
        'ends_at_local', private.format_local_time('2030-11-03 06:15:00+00', 'America/New_York'),
        'location', 'North Clinic',
        'manage_url', private.public_url('/manage/…')
    ),
    'every value, times as format_local_time shows them, the manage link without its token'
);

select is(
    (
        select array[v.template_values ->> 'starts_at_local', v.template_values ->> 'ends_at_local']
        from private.booking_message_values(array['b1000000-0000-0000-0000-000000000001'::uuid]) as v
    ),
    array['2030-11-03 01:30 (America/New_York)', '2030-11-03 01:15 (America/New_York)'],
    'the wall clock of the workspace''s zone, on both sides of a daylight saving change'
);

select is(
    (
        select v.template_values ->> 'practitioner_name'
        from private.booking_message_values(array['b1000000-0000-0000-0000-000000000002'::uuid]) as v
    ),
    'North Clinic',
    'a booking without a practitioner names the workspace'
);

select is(
    (
        select array_agg(v.revision order by v.booking_id)
        from private.booking_message_values(
            array['b1000000-0000-0000-0000-000000000001', 'b1000000-0000-0000-0000-000000000002']::uuid[]
        ) as v
    ),
    array[1, 1],
    'with the revision the values were read at'
);

select * from finish();
rollback;
