begin;
select plan(7);

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
    private.is_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'),
    true,
    'an owner is a member of their workspace'
);

select is(
    private.is_member('bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb'),
    false,
    'an owner is not a member of a workspace they are not in'
);

select is(
    private.is_member(null),
    false,
    'nobody is a member of a null workspace'
);

select tests.authenticate_as('22222222-2222-2222-2222-222222222222');

select is(
    private.is_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'),
    true,
    'staff are members'
);

select is(
    private.is_member('bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb'),
    true,
    'a user is a member of every workspace they belong to'
);

select tests.authenticate_as('44444444-4444-4444-4444-444444444444');

select is(
    private.is_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'),
    false,
    'a user without workspaces is a member of none'
);

select tests.authenticate_without_user();

select is(
    private.is_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'),
    false,
    'no signed-in user is a member of anything'
);

select tests.clear_authentication();

select * from finish();
rollback;
