begin;
select plan(17);

-- North Clinic: Olive owns it, Sam works there; one open and one accepted invitation.
-- South Salon: Sol owns it; one open invitation.
select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select tests.create_user('22222222-2222-2222-2222-222222222222', 'staff@example.test', 'Sam Staff');
select tests.create_user('33333333-3333-3333-3333-333333333333', 'south@example.test', 'Sol South');
select tests.create_user('55555555-5555-5555-5555-555555555555', 'partner@example.test', 'Pat Partner');
select tests.create_workspace(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'north-clinic', '11111111-1111-1111-1111-111111111111',
    'North Clinic', 'Europe/Paris'
);
select tests.create_workspace(
    'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb', 'south-salon', '33333333-3333-3333-3333-333333333333',
    'South Salon', 'Europe/Lisbon'
);
select tests.add_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '22222222-2222-2222-2222-222222222222');
select tests.add_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '55555555-5555-5555-5555-555555555555');
select tests.create_invitation(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'invitee@example.test', 'open-token',
    p_id => 'dddddddd-dddd-dddd-dddd-dddddddddd01'
);
select tests.create_invitation(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'partner@example.test', 'used-token',
    p_id => 'dddddddd-dddd-dddd-dddd-dddddddddd02'
);
select tests.create_invitation(
    'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb', 'invitee@example.test', 'south-token',
    p_id => 'dddddddd-dddd-dddd-dddd-dddddddddd03'
);
update public.invitations set accepted_at = now(), accepted_by = '55555555-5555-5555-5555-555555555555'
where id = 'dddddddd-dddd-dddd-dddd-dddddddddd02';

-- What revoke_invitation could have written: revocations.
create temp view written as
select count(*)::int as revoked from public.invitations as i
where
    i.workspace_id in ('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb')
    and i.revoked_at is not null;

create temp table written_before as select * from written;

select results_eq(
    'select * from written_before',
    $$values (0)$$,
    'before: nothing revoked'
);

select tests.authenticate_without_user();

select throws_ok(
    $$select public.revoke_invitation('dddddddd-dddd-dddd-dddd-dddddddddd01')$$,
    'PT401',
    'not_authenticated',
    'no signed-in user: not_authenticated'
);

select tests.clear_authentication();

select results_eq(
    'select * from written',
    'select * from written_before',
    'no signed-in user: nothing revoked'
);

select tests.authenticate_as('22222222-2222-2222-2222-222222222222');

select throws_ok(
    $$select public.revoke_invitation('dddddddd-dddd-dddd-dddd-dddddddddd01')$$,
    'PT403',
    'forbidden',
    'a staff member: forbidden'
);

select tests.clear_authentication();

select results_eq(
    'select * from written',
    'select * from written_before',
    'a staff member: nothing revoked'
);

select tests.authenticate_as('33333333-3333-3333-3333-333333333333');

select throws_ok(
    $$select public.revoke_invitation('dddddddd-dddd-dddd-dddd-dddddddddd01')$$,
    'PT404',
    'not_found',
    'an owner of another workspace: not_found'
);

select tests.clear_authentication();

select results_eq(
    'select * from written',
    'select * from written_before',
    'an owner of another workspace: nothing revoked'
);

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

select throws_ok(
    $$select public.revoke_invitation('dddddddd-dddd-dddd-dddd-dddddddddd03')$$,
    'PT404',
    'not_found',
    'an invitation of a workspace the caller is not in: not_found'
);

select tests.clear_authentication();

select results_eq(
    'select * from written',
    'select * from written_before',
    'an invitation of a workspace the caller is not in: nothing revoked'
);

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

select throws_ok(
    $$select public.revoke_invitation('cccccccc-cccc-cccc-cccc-cccccccccccc')$$,
    'PT404',
    'not_found',
    'an invitation that does not exist: not_found'
);

select tests.clear_authentication();

select results_eq(
    'select * from written',
    'select * from written_before',
    'an invitation that does not exist: nothing revoked'
);

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

select throws_ok(
    $$select public.revoke_invitation(null)$$,
    'PT404',
    'not_found',
    'a null id: not_found'
);

select tests.clear_authentication();

select results_eq(
    'select * from written',
    'select * from written_before',
    'a null id: nothing revoked'
);

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

select throws_ok(
    $$select public.revoke_invitation('dddddddd-dddd-dddd-dddd-dddddddddd02')$$,
    'PT409',
    'invitation_used',
    'an accepted invitation: invitation_used'
);

select tests.clear_authentication();

select results_eq(
    'select * from written',
    'select * from written_before',
    'an accepted invitation: nothing revoked'
);

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

select is(
    tests.caught($$select public.revoke_invitation('dddddddd-dddd-dddd-dddd-dddddddddd03')$$),
    jsonb_build_object(
        'sqlstate', 'PT404',
        'message', 'not_found',
        'detail', 'No such invitation in your workspaces.'
    ),
    'not_found does not tell an invitation elsewhere from no invitation'
);

select tests.clear_authentication();

select results_eq(
    $$
        select accepted_at, accepted_by, revoked_at from public.invitations
        where id = 'dddddddd-dddd-dddd-dddd-dddddddddd02'
    $$,
    $$values (now(), '55555555-5555-5555-5555-555555555555'::uuid, null::timestamptz)$$,
    'the accepted invitation stays accepted'
);

select * from finish();
rollback;
