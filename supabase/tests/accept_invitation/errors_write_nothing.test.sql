begin;
select plan(24);

-- North Clinic and South Salon belong to Olive. Ivy tries tokens; Pat already used one.
select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select tests.create_user('44444444-4444-4444-4444-444444444444', 'invitee@example.test', 'Ivy Invitee');
select tests.create_user('55555555-5555-5555-5555-555555555555', 'partner@example.test', 'Pat Partner');
select tests.create_workspace(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'north-clinic', '11111111-1111-1111-1111-111111111111',
    'North Clinic', 'Europe/Paris'
);
select tests.create_workspace(
    'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb', 'south-salon', '11111111-1111-1111-1111-111111111111',
    'South Salon', 'Europe/Lisbon'
);
select tests.add_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '55555555-5555-5555-5555-555555555555');

-- Olive's invitations. The revoked one comes first: an address has one open invitation at most.
select tests.create_invitation(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'invitee@example.test', 'revoked-token', 'owner'
);
update public.invitations set revoked_at = now()
where token_hash = private.token_hash('revoked-token');
select tests.create_invitation('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'invitee@example.test', 'expired-token');
select tests.create_invitation('bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb', 'invitee@example.test', 'deadline-token');
select tests.create_invitation(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'someone.else@example.test', 'someone-else-token'
);
select tests.create_invitation('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'partner@example.test', 'used-token');
update public.invitations set accepted_at = now(), accepted_by = '55555555-5555-5555-5555-555555555555'
where token_hash = private.token_hash('used-token');

-- Expire two invitations as postgres: one a minute ago, one exactly now.
update public.invitations set expires_at = now() - interval '1 minute'
where token_hash = private.token_hash('expired-token');
update public.invitations set expires_at = now()
where token_hash = private.token_hash('deadline-token');

-- What accept_invitation could have written: memberships and acceptances in these workspaces.
create temp view written as
select
    (
        select count(*)::int from public.workspace_members as m
        where m.workspace_id in ('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb')
    ) as members,
    (
        select count(*)::int from public.invitations as i
        where
            i.workspace_id in ('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb')
            and i.accepted_at is not null
    ) as accepted;

create temp table written_before as select * from written;

select results_eq(
    'select * from written_before',
    $$values (3, 1)$$,
    'before: three memberships, one accepted invitation'
);

select tests.authenticate_without_user();

select throws_ok(
    $$select public.accept_invitation('someone-else-token')$$,
    'PT401',
    'not_authenticated',
    'no signed-in user: not_authenticated'
);

select tests.clear_authentication();

select results_eq(
    'select * from written',
    'select * from written_before',
    'no signed-in user: nothing written'
);

select tests.authenticate_as('44444444-4444-4444-4444-444444444444');

select throws_ok(
    $$select public.accept_invitation('no-such-token')$$,
    'PT404',
    'invitation_not_found',
    'an unknown token: invitation_not_found'
);

select tests.clear_authentication();

select results_eq(
    'select * from written',
    'select * from written_before',
    'an unknown token: nothing written'
);

select tests.authenticate_as('44444444-4444-4444-4444-444444444444');

select throws_ok(
    $$select public.accept_invitation(null)$$,
    'PT404',
    'invitation_not_found',
    'a null token: invitation_not_found'
);

select tests.clear_authentication();

select results_eq(
    'select * from written',
    'select * from written_before',
    'a null token: nothing written'
);

select tests.authenticate_as('44444444-4444-4444-4444-444444444444');

select throws_ok(
    $$select public.accept_invitation('')$$,
    'PT404',
    'invitation_not_found',
    'an empty token: invitation_not_found'
);

select tests.clear_authentication();

select results_eq(
    'select * from written',
    'select * from written_before',
    'an empty token: nothing written'
);

select tests.authenticate_as('44444444-4444-4444-4444-444444444444');

select throws_ok(
    $$select public.accept_invitation('EXPIRED-TOKEN')$$,
    'PT404',
    'invitation_not_found',
    'a token in other case: invitation_not_found'
);

select tests.clear_authentication();

select results_eq(
    'select * from written',
    'select * from written_before',
    'a token in other case: nothing written'
);

select tests.authenticate_as('44444444-4444-4444-4444-444444444444');

select throws_ok(
    $$select public.accept_invitation(encode(private.token_hash('expired-token'), 'hex'))$$,
    'PT404',
    'invitation_not_found',
    'the token hash instead of the token: invitation_not_found'
);

select tests.clear_authentication();

select results_eq(
    'select * from written',
    'select * from written_before',
    'the token hash instead of the token: nothing written'
);

select tests.authenticate_as('44444444-4444-4444-4444-444444444444');

select throws_ok(
    $$select public.accept_invitation('expired-token')$$,
    'PT410',
    'invitation_expired',
    'an expired invitation: invitation_expired'
);

select tests.clear_authentication();

select results_eq(
    'select * from written',
    'select * from written_before',
    'an expired invitation: nothing written'
);

select tests.authenticate_as('44444444-4444-4444-4444-444444444444');

select throws_ok(
    $$select public.accept_invitation('deadline-token')$$,
    'PT410',
    'invitation_expired',
    'an invitation expiring this instant: invitation_expired'
);

select tests.clear_authentication();

select results_eq(
    'select * from written',
    'select * from written_before',
    'an invitation expiring this instant: nothing written'
);

select tests.authenticate_as('44444444-4444-4444-4444-444444444444');

select throws_ok(
    $$select public.accept_invitation('revoked-token')$$,
    'PT410',
    'invitation_revoked',
    'a revoked invitation: invitation_revoked'
);

select tests.clear_authentication();

select results_eq(
    'select * from written',
    'select * from written_before',
    'a revoked invitation: nothing written'
);

select tests.authenticate_as('44444444-4444-4444-4444-444444444444');

select throws_ok(
    $$select public.accept_invitation('used-token')$$,
    'PT409',
    'invitation_used',
    'an invitation another user accepted: invitation_used'
);

select tests.clear_authentication();

select results_eq(
    'select * from written',
    'select * from written_before',
    'an invitation another user accepted: nothing written'
);

select tests.authenticate_as('44444444-4444-4444-4444-444444444444');

select throws_ok(
    $$select public.accept_invitation('someone-else-token')$$,
    'PT403',
    'invitation_wrong_user',
    'an invitation to another address: invitation_wrong_user'
);

select tests.clear_authentication();

select results_eq(
    'select * from written',
    'select * from written_before',
    'an invitation to another address: nothing written'
);

select tests.authenticate_as_anon();

select throws_ok(
    $$select public.accept_invitation('someone-else-token')$$,
    '42501',
    null,
    'anon cannot call accept_invitation'
);

select tests.clear_authentication();

select * from finish();
rollback;
