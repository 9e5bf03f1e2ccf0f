begin;
select plan(12);

-- North Clinic has two owners, Olive and Omar, and a staff member, Sam.
select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select tests.create_user('22222222-2222-2222-2222-222222222222', 'staff@example.test', 'Sam Staff');
select tests.create_user('55555555-5555-5555-5555-555555555555', 'omar@example.test', 'Omar Owner');
select tests.create_workspace(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'north-clinic', '11111111-1111-1111-1111-111111111111',
    'North Clinic', 'Europe/Paris'
);
select tests.add_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '22222222-2222-2222-2222-222222222222');
select tests.add_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '55555555-5555-5555-5555-555555555555', 'owner');

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

select is(
    tests.affected(
        $$
            update public.workspace_members set role = 'staff'
            where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa' and user_id = '55555555-5555-5555-5555-555555555555'
        $$
    ),
    1,
    'with two owners, one owner demotes the other'
);

select is(
    (
        select m.role from public.workspace_members as m
        where m.user_id = '55555555-5555-5555-5555-555555555555'
    ),
    'staff',
    'the demoted owner is staff'
);

select throws_ok(
    $$
        update public.workspace_members set role = 'staff'
        where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa' and user_id = '11111111-1111-1111-1111-111111111111'
    $$,
    'PT409',
    'last_owner',
    'the remaining owner is now the last one'
);

select is(
    tests.affected(
        $$
            update public.workspace_members set role = 'owner'
            where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa' and user_id = '55555555-5555-5555-5555-555555555555'
        $$
    ),
    1,
    'an owner promotes a member back to owner'
);

select is(
    tests.affected(
        $$
            delete from public.workspace_members
            where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa' and user_id = '11111111-1111-1111-1111-111111111111'
        $$
    ),
    1,
    'with two owners, an owner leaves'
);

select tests.authenticate_as('55555555-5555-5555-5555-555555555555');

select throws_ok(
    $$
        delete from public.workspace_members
        where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa' and user_id = '55555555-5555-5555-5555-555555555555'
    $$,
    'PT409',
    'last_owner',
    'the owner left behind cannot leave'
);

select tests.clear_authentication();

select results_eq(
    $$
        select user_id, role from public.workspace_members
        where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'
        order by user_id
    $$,
    $$
        values
        ('22222222-2222-2222-2222-222222222222'::uuid, 'staff'::text),
        ('55555555-5555-5555-5555-555555555555'::uuid, 'owner'::text)
    $$,
    'Olive left, Omar owns, Sam works'
);

-- Sam becomes a second owner again.
update public.workspace_members set role = 'owner'
where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa' and user_id = '22222222-2222-2222-2222-222222222222';

select tests.authenticate_as('55555555-5555-5555-5555-555555555555');

select throws_ok(
    $$update public.workspace_members set role = 'staff' where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'$$,
    'PT409',
    'last_owner',
    'two owners cannot both be demoted in one statement'
);

select throws_ok(
    $$delete from public.workspace_members where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'$$,
    'PT409',
    'last_owner',
    'two owners cannot both be removed in one statement'
);

select is(
    tests.affected(
        $$
            delete from public.workspace_members
            where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa' and user_id = '22222222-2222-2222-2222-222222222222'
        $$
    ),
    1,
    'an owner removes the other owner'
);

select throws_ok(
    $$
        update public.workspace_members set role = 'staff'
        where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa' and user_id = '55555555-5555-5555-5555-555555555555'
    $$,
    'PT409',
    'last_owner',
    'and is then the last owner'
);

select tests.clear_authentication();

select results_eq(
    $$
        select user_id, role from public.workspace_members
        where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'
    $$,
    $$values ('55555555-5555-5555-5555-555555555555'::uuid, 'owner'::text)$$,
    'one owner is left'
);

select * from finish();
rollback;
