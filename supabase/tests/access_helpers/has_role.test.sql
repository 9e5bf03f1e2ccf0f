begin;
select plan(10);

-- North Clinic: Olive owns it, Sam works there. South Salon: Sam owns it, Sol works there.
-- Lou belongs nowhere.
select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select tests.create_user('22222222-2222-2222-2222-222222222222', 'staff@example.test', 'Sam Staff');
select tests.create_user('33333333-3333-3333-3333-333333333333', 'south@example.test', 'Sol South');
select tests.create_user('44444444-4444-4444-4444-444444444444', 'loner@example.test', 'Lou Loner');
select tests.create_workspace(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'north-clinic', '11111111-1111-1111-1111-111111111111',
    'North Clinic', 'Europe/Paris'
);
select tests.create_workspace(
    'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb', 'south-salon', '22222222-2222-2222-2222-222222222222',
    'South Salon', 'Europe/Lisbon'
);
select tests.add_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '22222222-2222-2222-2222-222222222222');
select tests.add_member('bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb', '33333333-3333-3333-3333-333333333333');

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

select is(
    private.has_role('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'owner'),
    true,
    'an owner has the owner role'
);

select is(
    private.has_role('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'staff'),
    true,
    'an owner passes for staff'
);

select is(
    private.has_role('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'admin'),
    false,
    'an owner does not pass for an unknown role'
);

select is(
    private.has_role('bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb', 'staff'),
    false,
    'no role in a workspace one is not in'
);

select tests.authenticate_as('22222222-2222-2222-2222-222222222222');

select is(
    private.has_role('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'staff'),
    true,
    'staff have the staff role'
);

select is(
    private.has_role('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'owner'),
    false,
    'staff do not pass for owner'
);

select is(
    private.has_role('bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb', 'owner'),
    true,
    'roles are per workspace'
);

select tests.authenticate_as('33333333-3333-3333-3333-333333333333');

select is(
    private.has_role('bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb', null),
    false,
    'a null role is never held'
);

select is(
    private.has_role('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'staff'),
    false,
    'staff elsewhere have no role here'
);

select tests.authenticate_without_user();

select is(
    private.has_role('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'staff'),
    false,
    'no signed-in user holds any role'
);

select tests.clear_authentication();

select * from finish();
rollback;
