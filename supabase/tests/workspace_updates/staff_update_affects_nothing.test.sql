begin;
select plan(8);

-- North Clinic: Olive owns it, Sam works there. South Salon belongs to Sol. Lou belongs nowhere.
select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select tests.create_user('22222222-2222-2222-2222-222222222222', 'staff@example.test', 'Sam Staff');
select tests.create_user('33333333-3333-3333-3333-333333333333', 'south@example.test', 'Sol South');
select tests.create_user('44444444-4444-4444-4444-444444444444', 'loner@example.test', 'Lou Loner');
select tests.create_workspace(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'north-clinic', '11111111-1111-1111-1111-111111111111',
    'North Clinic', 'Europe/Paris'
);
select tests.create_workspace(
    'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb', 'south-salon', '33333333-3333-3333-3333-333333333333',
    'South Salon', 'Europe/Lisbon'
);
select tests.add_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '22222222-2222-2222-2222-222222222222');

select tests.authenticate_as('22222222-2222-2222-2222-222222222222');

select is(
    tests.affected(
        $$update public.workspaces set name = 'Hijacked' where id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'$$
    ),
    0,
    'a staff member''s update of their workspace affects 0 rows'
);

select is(
    tests.affected($$update public.workspaces set timezone = 'UTC'$$),
    0,
    'a staff member''s update without a filter affects 0 rows'
);

select is(
    tests.affected(
        $$update public.workspaces set slug = 'Bad Slug' where id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'$$
    ),
    0,
    'a staff member''s invalid update is filtered out before validation'
);

select is(
    tests.affected(
        $$
            update public.workspace_members set role = 'owner'
            where user_id = '22222222-2222-2222-2222-222222222222'
        $$
    ),
    0,
    'a staff member cannot promote themselves'
);

select tests.authenticate_as('44444444-4444-4444-4444-444444444444');

select is(
    tests.affected(
        $$update public.workspaces set name = 'Hijacked' where id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'$$
    ),
    0,
    'an outsider''s update affects 0 rows'
);

select tests.clear_authentication();

select results_eq(
    $$select name, slug, timezone from public.workspaces where id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'$$,
    $$values ('North Clinic', 'north-clinic', 'Europe/Paris')$$,
    'the workspace is unchanged'
);

select is(
    (
        select count(*)::int from public.workspaces as w
        where w.timezone = 'UTC' and w.id in (
            'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb'
        )
    ),
    0,
    'no workspace took the unfiltered update'
);

select is(
    (
        select m.role from public.workspace_members as m
        where m.user_id = '22222222-2222-2222-2222-222222222222'
    ),
    'staff',
    'the staff member is still staff'
);

select * from finish();
rollback;
