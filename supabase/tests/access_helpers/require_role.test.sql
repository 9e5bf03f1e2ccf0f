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
    private.require_role('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'owner'),
    '11111111-1111-1111-1111-111111111111'::uuid,
    'an owner passes and gets their user id'
);

select is(
    private.require_role('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'staff'),
    '11111111-1111-1111-1111-111111111111'::uuid,
    'an owner passes a staff check'
);

select throws_ok(
    $$select private.require_role('bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb', 'staff')$$,
    'PT404',
    'not_found',
    'a workspace the caller is not in is not_found'
);

select is(
    tests.caught($$select private.require_role('bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb', 'owner')$$),
    jsonb_build_object(
        'sqlstate', 'PT404',
        'message', 'not_found',
        'detail', 'No such workspace, or you are not a member of it.'
    ),
    'not_found says so in its detail'
);

select throws_ok(
    $$select private.require_role('cccccccc-cccc-cccc-cccc-cccccccccccc', 'staff')$$,
    'PT404',
    'not_found',
    'a workspace that does not exist is not_found'
);

select tests.authenticate_as('22222222-2222-2222-2222-222222222222');

select is(
    private.require_role('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'staff'),
    '22222222-2222-2222-2222-222222222222'::uuid,
    'staff pass a staff check'
);

select throws_ok(
    $$select private.require_role('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'owner')$$,
    'PT403',
    'forbidden',
    'staff fail an owner check with forbidden'
);

select is(
    tests.caught($$select private.require_role('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'owner')$$),
    jsonb_build_object(
        'sqlstate', 'PT403',
        'message', 'forbidden',
        'detail', 'This needs the owner role in the workspace.'
    ),
    'forbidden names the role needed'
);

select tests.authenticate_as('44444444-4444-4444-4444-444444444444');

select throws_ok(
    $$select private.require_role('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'staff')$$,
    'PT404',
    'not_found',
    'a user without workspaces gets not_found'
);

select tests.authenticate_without_user();

select throws_ok(
    $$select private.require_role('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'staff')$$,
    'PT401',
    'not_authenticated',
    'no signed-in user gets not_authenticated'
);

select tests.clear_authentication();

select * from finish();
rollback;
