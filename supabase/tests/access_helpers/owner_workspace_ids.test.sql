begin;
select plan(5);

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
    private.owner_workspace_ids(),
    array['aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa']::uuid[],
    'an owner gets the workspace they own'
);

select tests.authenticate_as('22222222-2222-2222-2222-222222222222');

select is(
    private.owner_workspace_ids(),
    array['bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb']::uuid[],
    'a user who owns one workspace and works in another gets only the owned one'
);

select tests.authenticate_as('33333333-3333-3333-3333-333333333333');

select is(
    private.owner_workspace_ids(),
    '{}'::uuid[],
    'a staff member owns nothing'
);

select tests.authenticate_as('44444444-4444-4444-4444-444444444444');

select is(
    private.owner_workspace_ids(),
    '{}'::uuid[],
    'a user without workspaces owns nothing'
);

select tests.authenticate_without_user();

select is(
    private.owner_workspace_ids(),
    '{}'::uuid[],
    'no signed-in user owns nothing'
);

select tests.clear_authentication();

select * from finish();
rollback;
