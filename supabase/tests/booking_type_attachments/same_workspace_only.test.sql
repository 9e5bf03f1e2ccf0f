begin;
select plan(9);

-- Olive owns both North Clinic and South Salon, so RLS alone would let her mix them.
select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select tests.create_user('22222222-2222-2222-2222-222222222222', 'staff@example.test', 'Sam Staff');
select tests.create_workspace(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'north-clinic', '11111111-1111-1111-1111-111111111111'
);
select tests.create_workspace(
    'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb', 'south-salon', '11111111-1111-1111-1111-111111111111'
);
select tests.add_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '22222222-2222-2222-2222-222222222222');

insert into public.booking_types (id, workspace_id, name, duration_minutes) values
('b0000000-0000-0000-0000-00000000000a', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'Check-up', 30),
('b0000000-0000-0000-0000-00000000000b', 'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb', 'Haircut', 45);
insert into public.intake_forms (id, workspace_id, name, fields) values
(
    'f0000000-0000-0000-0000-00000000000a', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'Health',
    '[{"key": "allergies", "type": "text", "label": "Allergies"}]'
);
insert into public.inventory_items (id, workspace_id, name) values
('10000000-0000-0000-0000-00000000000a', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'Gloves');

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');
select lives_ok(
    $$
        insert into public.booking_type_forms (workspace_id, booking_type_id, form_id) values
        ('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'b0000000-0000-0000-0000-00000000000a', 'f0000000-0000-0000-0000-00000000000a')
    $$,
    'a form attaches to a booking type of its workspace'
);
select lives_ok(
    $$
        insert into public.booking_type_inventory_usage (workspace_id, booking_type_id, item_id, quantity_per_booking)
        values (
            'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'b0000000-0000-0000-0000-00000000000a',
            '10000000-0000-0000-0000-00000000000a', 2
        )
    $$,
    'an item is used by a booking type of its workspace'
);
select throws_ok(
    $$
        insert into public.booking_type_forms (workspace_id, booking_type_id, form_id) values
        ('bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb', 'b0000000-0000-0000-0000-00000000000b', 'f0000000-0000-0000-0000-00000000000a')
    $$,
    '23503', null, 'a North form never attaches to a South type (labelled South)'
);
select throws_ok(
    $$
        insert into public.booking_type_forms (workspace_id, booking_type_id, form_id) values
        ('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'b0000000-0000-0000-0000-00000000000b', 'f0000000-0000-0000-0000-00000000000a')
    $$,
    '23503', null, 'nor labelled North'
);
select throws_ok(
    $$
        insert into public.booking_type_inventory_usage (workspace_id, booking_type_id, item_id, quantity_per_booking)
        values (
            'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb', 'b0000000-0000-0000-0000-00000000000b',
            '10000000-0000-0000-0000-00000000000a', 1
        )
    $$,
    '23503', null, 'a North item is never used by a South type'
);
select throws_ok(
    $$update public.booking_type_inventory_usage set quantity_per_booking = 0$$,
    'PT400', 'invalid_usage_quantity', 'a usage of zero: invalid_usage_quantity'
);

select tests.authenticate_as('22222222-2222-2222-2222-222222222222');
select is(
    (select count(*)::int from public.booking_type_forms)
    + (select count(*)::int from public.booking_type_inventory_usage),
    2,
    'staff read what their booking types bring along'
);
select is(tests.affected($$delete from public.booking_type_forms$$), 0, 'staff cannot detach forms');
select tests.clear_authentication();

delete from public.intake_forms
where id = 'f0000000-0000-0000-0000-00000000000a';
select is_empty('select * from public.booking_type_forms', 'deleting the form detaches it');

select * from finish();
rollback;
