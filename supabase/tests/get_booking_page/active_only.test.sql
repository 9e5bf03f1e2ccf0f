begin;
select plan(7);

select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select tests.create_workspace(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'north-clinic', '11111111-1111-1111-1111-111111111111',
    'North Clinic', 'Europe/Paris'
);
update public.communication_settings set sender_email = 'desk@north.test';
insert into public.booking_types (id, workspace_id, name, description, duration_minutes, location) values
('bbbbbbbb-0000-0000-0000-000000000001', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'Check-up', 'Yearly.', 30, 'Room 1');
update public.practitioners set id = 'dddddddd-0000-0000-0000-000000000001';
insert into public.booking_type_practitioners (workspace_id, booking_type_id, practitioner_id) values (
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa',
    'bbbbbbbb-0000-0000-0000-000000000001',
    'dddddddd-0000-0000-0000-000000000001'
);
insert into public.availability_rules (workspace_id, practitioner_id, weekday, start_time, end_time)
values ('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'dddddddd-0000-0000-0000-000000000001', 2, '09:00', '17:00');

select tests.authenticate_as_anon();
select throws_ok(
    $$select public.get_booking_page('north-clinic')$$, 'PT404', 'not_found', 'a draft workspace: not_found'
);
select is(
    tests.caught($$select public.get_booking_page('north-clinic')$$),
    tests.caught($$select public.get_booking_page('no-such-clinic')$$),
    'a draft and an unknown workspace fail alike'
);
select tests.clear_authentication();

update public.workspaces set status = 'active';

select tests.authenticate_as_anon();
select is(
    public.get_booking_page(' North-Clinic '),
    '{
        "workspace": {"name": "North Clinic", "slug": "north-clinic", "timezone": "Europe/Paris"},
        "booking_types": [{
            "id": "bbbbbbbb-0000-0000-0000-000000000001", "name": "Check-up", "description": "Yearly.",
            "duration_minutes": 30, "location": "Room 1",
            "practitioners": [{"id": "dddddddd-0000-0000-0000-000000000001", "display_name": "Olive Owner"}]
        }]
    }'::jsonb,
    'an active workspace: name, zone, types and practitioners'
);
select is(
    strpos(public.get_booking_page('north-clinic')::text, 'owner@example.test'),
    0,
    'no email on the public page'
);
select throws_ok(
    $$select count(*) from public.booking_types$$, '42501', null, 'anon still reads no table'
);
select tests.clear_authentication();

update public.workspaces set status = 'suspended';
select tests.authenticate_as_anon();
select is(
    tests.caught($$select public.get_booking_page('north-clinic')$$),
    tests.caught($$select public.get_booking_page('no-such-clinic')$$),
    'a suspended and an unknown workspace fail alike'
);
select is(
    tests.caught($$select public.get_booking_page(null)$$) ->> 'message',
    'not_found',
    'no slug: not_found'
);
select tests.clear_authentication();

select * from finish();
rollback;
