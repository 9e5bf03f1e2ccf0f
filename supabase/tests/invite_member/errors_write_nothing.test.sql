begin;
select plan(49);

-- North Clinic: Olive owns it, Sam works there. South Salon belongs to Sol.
select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select tests.create_user('22222222-2222-2222-2222-222222222222', 'staff@example.test', 'Sam Staff');
select tests.create_user('33333333-3333-3333-3333-333333333333', 'south@example.test', 'Sol South');
select tests.create_workspace(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'north-clinic', '11111111-1111-1111-1111-111111111111',
    'North Clinic', 'Europe/Paris'
);
select tests.create_workspace(
    'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb', 'south-salon', '33333333-3333-3333-3333-333333333333',
    'South Salon', 'Europe/Lisbon'
);
select tests.add_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '22222222-2222-2222-2222-222222222222');

-- What invite_member could have written: invitations of these workspaces, invitation jobs.
create temp view written as
select
    (
        select count(*)::int from public.invitations as i
        where i.workspace_id in ('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb')
    ) as invitations,
    (
        select count(*)::int from pgmq.q_jobs
        where message ->> 'kind' = 'invitation_created'
    ) as jobs;

create temp table written_before as select * from written;

select results_eq(
    'select * from written_before',
    $$values (0, 0)$$,
    'before: no invitation, no job'
);

select tests.authenticate_without_user();

select throws_ok(
    $$select public.invite_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'new@example.test')$$,
    'PT401',
    'not_authenticated',
    'no signed-in user: not_authenticated'
);

select tests.clear_authentication();

select results_eq(
    'select * from written',
    'select * from written_before',
    'no signed-in user: no invitation, no job'
);

select tests.authenticate_as('33333333-3333-3333-3333-333333333333');

select throws_ok(
    $$select public.invite_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'new@example.test')$$,
    'PT404',
    'not_found',
    'an owner of another workspace: not_found'
);

select tests.clear_authentication();

select results_eq(
    'select * from written',
    'select * from written_before',
    'an owner of another workspace: no invitation, no job'
);

select tests.authenticate_as('22222222-2222-2222-2222-222222222222');

select throws_ok(
    $$select public.invite_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'new@example.test')$$,
    'PT403',
    'forbidden',
    'a staff member: forbidden'
);

select tests.clear_authentication();

select results_eq(
    'select * from written',
    'select * from written_before',
    'a staff member: no invitation, no job'
);

select tests.authenticate_as('22222222-2222-2222-2222-222222222222');

select throws_ok(
    $$select public.invite_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'not-an-email', 'admin', 0)$$,
    'PT403',
    'forbidden',
    'a staff member with bad arguments: forbidden'
);

select tests.clear_authentication();

select results_eq(
    'select * from written',
    'select * from written_before',
    'a staff member with bad arguments: no invitation, no job'
);

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

select throws_ok(
    $$select public.invite_member('cccccccc-cccc-cccc-cccc-cccccccccccc', 'new@example.test')$$,
    'PT404',
    'not_found',
    'a workspace that does not exist: not_found'
);

select tests.clear_authentication();

select results_eq(
    'select * from written',
    'select * from written_before',
    'a workspace that does not exist: no invitation, no job'
);

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

select throws_ok(
    $$select public.invite_member(null, 'new@example.test')$$,
    'PT404',
    'not_found',
    'a null workspace: not_found'
);

select tests.clear_authentication();

select results_eq(
    'select * from written',
    'select * from written_before',
    'a null workspace: no invitation, no job'
);

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

select throws_ok(
    $$select public.invite_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'not-an-email')$$,
    'PT400',
    'invalid_email',
    'an address without @: invalid_email'
);

select tests.clear_authentication();

select results_eq(
    'select * from written',
    'select * from written_before',
    'an address without @: no invitation, no job'
);

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

select throws_ok(
    $$select public.invite_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '')$$,
    'PT400',
    'invalid_email',
    'an empty address: invalid_email'
);

select tests.clear_authentication();

select results_eq(
    'select * from written',
    'select * from written_before',
    'an empty address: no invitation, no job'
);

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

select throws_ok(
    $$select public.invite_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', null)$$,
    'PT400',
    'invalid_email',
    'a null address: invalid_email'
);

select tests.clear_authentication();

select results_eq(
    'select * from written',
    'select * from written_before',
    'a null address: no invitation, no job'
);

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

select throws_ok(
    $$select public.invite_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'new@localhost')$$,
    'PT400',
    'invalid_email',
    'an address without a dot in the domain: invalid_email'
);

select tests.clear_authentication();

select results_eq(
    'select * from written',
    'select * from written_before',
    'an address without a dot in the domain: no invitation, no job'
);

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

select throws_ok(
    $$select public.invite_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'new@@example.test')$$,
    'PT400',
    'invalid_email',
    'an address with two @: invalid_email'
);

select tests.clear_authentication();

select results_eq(
    'select * from written',
    'select * from written_before',
    'an address with two @: no invitation, no job'
);

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

select throws_ok(
    $$select public.invite_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'new person@example.test')$$,
    'PT400',
    'invalid_email',
    'an address with a space: invalid_email'
);

select tests.clear_authentication();

select results_eq(
    'select * from written',
    'select * from written_before',
    'an address with a space: no invitation, no job'
);

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

select throws_ok(
    $$select public.invite_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', repeat('a', 243) || '@example.test')$$,
    'PT400',
    'invalid_email',
    'a 256-character address: invalid_email'
);

select tests.clear_authentication();

select results_eq(
    'select * from written',
    'select * from written_before',
    'a 256-character address: no invitation, no job'
);

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

select throws_ok(
    $$select public.invite_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'new@example.test', 'admin')$$,
    'PT400',
    'invalid_role',
    'an unknown role: invalid_role'
);

select tests.clear_authentication();

select results_eq(
    'select * from written',
    'select * from written_before',
    'an unknown role: no invitation, no job'
);

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

select throws_ok(
    $$select public.invite_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'new@example.test', 'Owner')$$,
    'PT400',
    'invalid_role',
    'a role in capitals: invalid_role'
);

select tests.clear_authentication();

select results_eq(
    'select * from written',
    'select * from written_before',
    'a role in capitals: no invitation, no job'
);

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

select throws_ok(
    $$select public.invite_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'new@example.test', null)$$,
    'PT400',
    'invalid_role',
    'a null role: invalid_role'
);

select tests.clear_authentication();

select results_eq(
    'select * from written',
    'select * from written_before',
    'a null role: no invitation, no job'
);

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

select throws_ok(
    $$select public.invite_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'new@example.test', 'staff', 0)$$,
    'PT400',
    'invalid_expiry',
    'a validity of 0 days: invalid_expiry'
);

select tests.clear_authentication();

select results_eq(
    'select * from written',
    'select * from written_before',
    'a validity of 0 days: no invitation, no job'
);

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

select throws_ok(
    $$select public.invite_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'new@example.test', 'staff', 31)$$,
    'PT400',
    'invalid_expiry',
    'a validity of 31 days: invalid_expiry'
);

select tests.clear_authentication();

select results_eq(
    'select * from written',
    'select * from written_before',
    'a validity of 31 days: no invitation, no job'
);

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

select throws_ok(
    $$select public.invite_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'new@example.test', 'staff', -1)$$,
    'PT400',
    'invalid_expiry',
    'a negative validity: invalid_expiry'
);

select tests.clear_authentication();

select results_eq(
    'select * from written',
    'select * from written_before',
    'a negative validity: no invitation, no job'
);

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

select throws_ok(
    $$select public.invite_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'new@example.test', 'staff', null)$$,
    'PT400',
    'invalid_expiry',
    'a null validity: invalid_expiry'
);

select tests.clear_authentication();

select results_eq(
    'select * from written',
    'select * from written_before',
    'a null validity: no invitation, no job'
);

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

select throws_ok(
    $$select public.invite_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'staff@example.test')$$,
    'PT409',
    'already_member',
    'the address of a staff member: already_member'
);

select tests.clear_authentication();

select results_eq(
    'select * from written',
    'select * from written_before',
    'the address of a staff member: no invitation, no job'
);

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

select throws_ok(
    $$select public.invite_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '  Staff@Example.TEST ')$$,
    'PT409',
    'already_member',
    'a member address in other case: already_member'
);

select tests.clear_authentication();

select results_eq(
    'select * from written',
    'select * from written_before',
    'a member address in other case: no invitation, no job'
);

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

select throws_ok(
    $$select public.invite_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'owner@example.test', 'owner')$$,
    'PT409',
    'already_member',
    'the owners own address: already_member'
);

select tests.clear_authentication();

select results_eq(
    'select * from written',
    'select * from written_before',
    'the owners own address: no invitation, no job'
);

-- The same owner can still invite: the failures left nothing locked or half-done.
select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

select is(
    (select v.email from public.invite_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'new@example.test') as v),
    'new@example.test',
    'a valid invitation after all the failures works'
);

select tests.clear_authentication();

select results_eq(
    'select * from written',
    $$values (1, 1)$$,
    'and writes one invitation and one job'
);

select * from finish();
rollback;
