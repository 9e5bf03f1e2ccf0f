begin;
select plan(10);

-- North Clinic has one owner, Olive, and one staff member, Sam.
select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select tests.create_user('22222222-2222-2222-2222-222222222222', 'staff@example.test', 'Sam Staff');
select tests.create_workspace(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'north-clinic', '11111111-1111-1111-1111-111111111111',
    'North Clinic', 'Europe/Paris'
);
select tests.add_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '22222222-2222-2222-2222-222222222222');

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

select throws_ok(
    $$
        update public.workspace_members set role = 'staff'
        where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa' and user_id = '11111111-1111-1111-1111-111111111111'
    $$,
    'PT409',
    'last_owner',
    'the last owner cannot demote themselves'
);

select is(
    tests.caught(
        $$
            update public.workspace_members set role = 'staff'
            where user_id = '11111111-1111-1111-1111-111111111111'
        $$
    ),
    jsonb_build_object(
        'sqlstate', 'PT409',
        'message', 'last_owner',
        'detail', 'A workspace must keep at least one owner.'
    ),
    'last_owner carries its description'
);

select throws_ok(
    $$
        delete from public.workspace_members
        where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa' and user_id = '11111111-1111-1111-1111-111111111111'
    $$,
    'PT409',
    'last_owner',
    'the last owner cannot leave'
);

select throws_ok(
    $$delete from public.workspace_members where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'$$,
    'PT409',
    'last_owner',
    'the last owner cannot empty the workspace'
);

select throws_ok(
    $$update public.workspace_members set role = 'staff' where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'$$,
    'PT409',
    'last_owner',
    'the last owner cannot demote everyone at once'
);

select is(
    tests.affected(
        $$
            update public.workspace_members set role = 'owner'
            where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa' and user_id = '11111111-1111-1111-1111-111111111111'
        $$
    ),
    1,
    'the last owner may update their row as long as it stays owner'
);

select is(
    tests.affected(
        $$
            update public.workspace_members set role = 'staff'
            where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa' and user_id = '22222222-2222-2222-2222-222222222222'
        $$
    ),
    1,
    'rows of staff members pass the trigger'
);

select tests.clear_authentication();

select throws_ok(
    $$
        delete from public.workspace_members
        where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa' and user_id = '11111111-1111-1111-1111-111111111111'
    $$,
    'PT409',
    'last_owner',
    'postgres, past RLS, cannot remove the last owner either'
);

select throws_ok(
    $$
        update public.workspace_members set role = 'staff'
        where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa' and user_id = '11111111-1111-1111-1111-111111111111'
    $$,
    'PT409',
    'last_owner',
    'postgres cannot demote the last owner either'
);

select results_eq(
    $$
        select user_id, role from public.workspace_members
        where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'
        order by user_id
    $$,
    $$
        values
        ('11111111-1111-1111-1111-111111111111'::uuid, 'owner'::text),
        ('22222222-2222-2222-2222-222222222222'::uuid, 'staff'::text)
    $$,
    'the memberships are unchanged'
);

select * from finish();
rollback;
