begin;
select plan(6);

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
    (
        select array_agg(u order by u)
        from unnest(private.co_member_ids()) as u
    ),
    array['11111111-1111-1111-1111-111111111111', '22222222-2222-2222-2222-222222222222']::uuid[],
    'an owner gets themselves and their staff'
);

select tests.authenticate_as('22222222-2222-2222-2222-222222222222');

select is(
    (
        select array_agg(u order by u)
        from unnest(private.co_member_ids()) as u
    ),
    array[
        '11111111-1111-1111-1111-111111111111',
        '22222222-2222-2222-2222-222222222222',
        '33333333-3333-3333-3333-333333333333'
    ]::uuid[],
    'a user in two workspaces gets everyone in both'
);

select is(
    cardinality(private.co_member_ids()),
    3,
    'each co-member appears once'
);

select tests.authenticate_as('33333333-3333-3333-3333-333333333333');

select is(
    (
        select array_agg(u order by u)
        from unnest(private.co_member_ids()) as u
    ),
    array['22222222-2222-2222-2222-222222222222', '33333333-3333-3333-3333-333333333333']::uuid[],
    'a staff member does not see members of workspaces they are not in'
);

select tests.authenticate_as('44444444-4444-4444-4444-444444444444');

select is(
    private.co_member_ids(),
    '{}'::uuid[],
    'a user without workspaces has no co-members'
);

select tests.authenticate_without_user();

select is(
    private.co_member_ids(),
    '{}'::uuid[],
    'no signed-in user has no co-members'
);

select tests.clear_authentication();

select * from finish();
rollback;
