begin;
select plan(10);

-- North Clinic: Olive owns it, Sam and Sue work there.
-- South Salon: two owners, Sol and Omar, and a pending invitation.
select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select tests.create_user('22222222-2222-2222-2222-222222222222', 'staff@example.test', 'Sam Staff');
select tests.create_user('33333333-3333-3333-3333-333333333333', 'sue@example.test', 'Sue Staff');
select tests.create_user('44444444-4444-4444-4444-444444444444', 'south@example.test', 'Sol South');
select tests.create_user('55555555-5555-5555-5555-555555555555', 'omar@example.test', 'Omar Owner');
select tests.create_workspace(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'north-clinic', '11111111-1111-1111-1111-111111111111',
    'North Clinic', 'Europe/Paris'
);
select tests.create_workspace(
    'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb', 'south-salon', '44444444-4444-4444-4444-444444444444',
    'South Salon', 'Europe/Lisbon'
);
select tests.add_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '22222222-2222-2222-2222-222222222222');
select tests.add_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '33333333-3333-3333-3333-333333333333');
select tests.add_member('bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb', '55555555-5555-5555-5555-555555555555', 'owner');
select tests.create_invitation('bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb', 'new@example.test', 'cascade-token');

select tests.authenticate_as('22222222-2222-2222-2222-222222222222');

select is(
    tests.affected(
        $$
            delete from public.workspace_members
            where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa' and user_id = '22222222-2222-2222-2222-222222222222'
        $$
    ),
    1,
    'a staff member leaves'
);

select is(
    private.is_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'),
    false,
    'and is no longer a member'
);

select tests.authenticate_as('33333333-3333-3333-3333-333333333333');

select is(
    tests.affected(
        $$
            delete from public.workspace_members
            where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa' and user_id = '11111111-1111-1111-1111-111111111111'
        $$
    ),
    0,
    'a staff member cannot remove the owner'
);

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

select is(
    tests.affected(
        $$
            delete from public.workspace_members
            where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa' and user_id = '33333333-3333-3333-3333-333333333333'
        $$
    ),
    1,
    'the owner removes a staff member'
);

select tests.clear_authentication();

select results_eq(
    $$select user_id, role from public.workspace_members where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'$$,
    $$values ('11111111-1111-1111-1111-111111111111'::uuid, 'owner'::text)$$,
    'only the owner is left'
);

select lives_ok(
    $$delete from public.workspaces where id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'$$,
    'deleting a workspace with a single owner cascades past keep_last_owner'
);

select is(
    (
        select count(*)::int from public.workspace_members as m
        where m.workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'
    ),
    0,
    'its memberships are gone'
);

select lives_ok(
    $$delete from public.workspaces where id = 'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb'$$,
    'deleting a workspace with two owners cascades too'
);

select is(
    (
        select count(*)::int from public.workspace_members as m
        where m.workspace_id = 'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb'
    ),
    0,
    'both owner memberships are gone'
);

select is(
    (
        select count(*)::int from public.invitations as i
        where i.workspace_id = 'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb'
    ),
    0,
    'its invitations are gone'
);

select * from finish();
rollback;
