begin;
create extension if not exists pgtap with schema extensions;
select plan(24);

-- North Clinic and South Salon belong to Olive. Ivy tries tokens; Pat already used one.
insert into auth.users (id, email, raw_user_meta_data) values
('11111111-1111-1111-1111-111111111111', 'owner@example.test', '{"full_name": "Olive Owner"}'),
('44444444-4444-4444-4444-444444444444', 'invitee@example.test', '{"full_name": "Ivy Invitee"}'),
('55555555-5555-5555-5555-555555555555', 'partner@example.test', '{"full_name": "Pat Partner"}');

insert into public.workspaces (id, name, slug, timezone, created_by) values
(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa',
    'North Clinic', 'north-clinic', 'Europe/Paris', '11111111-1111-1111-1111-111111111111'
),
(
    'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb',
    'South Salon', 'south-salon', 'Europe/Lisbon', '11111111-1111-1111-1111-111111111111'
);

insert into public.workspace_members (workspace_id, user_id, role) values
('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '11111111-1111-1111-1111-111111111111', 'owner'),
('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '55555555-5555-5555-5555-555555555555', 'staff'),
('bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb', '11111111-1111-1111-1111-111111111111', 'owner');

insert into public.invitations (workspace_id, email, role, token_hash, invited_by, expires_at) values
(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'invitee@example.test', 'staff', private.token_hash('expired-token'),
    '11111111-1111-1111-1111-111111111111', now() + interval '7 days'
),
(
    'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb', 'invitee@example.test', 'staff', private.token_hash('deadline-token'),
    '11111111-1111-1111-1111-111111111111', now() + interval '7 days'
),
(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'someone.else@example.test', 'staff',
    private.token_hash('someone-else-token'), '11111111-1111-1111-1111-111111111111', now() + interval '7 days'
);

insert into public.invitations (workspace_id, email, role, token_hash, invited_by, expires_at, revoked_at) values
(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'invitee@example.test', 'owner', private.token_hash('revoked-token'),
    '11111111-1111-1111-1111-111111111111', now() + interval '7 days', now()
);

insert into public.invitations (
    workspace_id, email, role, token_hash, invited_by, expires_at, accepted_at, accepted_by
) values
(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'partner@example.test', 'staff', private.token_hash('used-token'),
    '11111111-1111-1111-1111-111111111111', now() + interval '7 days', now(), '55555555-5555-5555-5555-555555555555'
);

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

select set_config('request.jwt.claims', '', true);

set local role authenticated;

select throws_ok(
    $$select public.accept_invitation('someone-else-token')$$,
    'PT401',
    'not_authenticated',
    'no signed-in user: not_authenticated'
);

reset role;

select results_eq(
    'select * from written',
    'select * from written_before',
    'no signed-in user: nothing written'
);

select set_config(
    'request.jwt.claims', '{"sub": "44444444-4444-4444-4444-444444444444", "role": "authenticated"}', true
);

set local role authenticated;

select throws_ok(
    $$select public.accept_invitation('no-such-token')$$,
    'PT404',
    'invitation_not_found',
    'an unknown token: invitation_not_found'
);

reset role;

select results_eq(
    'select * from written',
    'select * from written_before',
    'an unknown token: nothing written'
);

set local role authenticated;

select throws_ok(
    $$select public.accept_invitation(null)$$,
    'PT404',
    'invitation_not_found',
    'a null token: invitation_not_found'
);

reset role;

select results_eq(
    'select * from written',
    'select * from written_before',
    'a null token: nothing written'
);

set local role authenticated;

select throws_ok(
    $$select public.accept_invitation('')$$,
    'PT404',
    'invitation_not_found',
    'an empty token: invitation_not_found'
);

reset role;

select results_eq(
    'select * from written',
    'select * from written_before',
    'an empty token: nothing written'
);

set local role authenticated;

select throws_ok(
    $$select public.accept_invitation('EXPIRED-TOKEN')$$,
    'PT404',
    'invitation_not_found',
    'a token in other case: invitation_not_found'
);

reset role;

select results_eq(
    'select * from written',
    'select * from written_before',
    'a token in other case: nothing written'
);

set local role authenticated;

select throws_ok(
    $$select public.accept_invitation(encode(private.token_hash('expired-token'), 'hex'))$$,
    'PT404',
    'invitation_not_found',
    'the token hash instead of the token: invitation_not_found'
);

reset role;

select results_eq(
    'select * from written',
    'select * from written_before',
    'the token hash instead of the token: nothing written'
);

set local role authenticated;

select throws_ok(
    $$select public.accept_invitation('expired-token')$$,
    'PT410',
    'invitation_expired',
    'an expired invitation: invitation_expired'
);

reset role;

select results_eq(
    'select * from written',
    'select * from written_before',
    'an expired invitation: nothing written'
);

set local role authenticated;

select throws_ok(
    $$select public.accept_invitation('deadline-token')$$,
    'PT410',
    'invitation_expired',
    'an invitation expiring this instant: invitation_expired'
);

reset role;

select results_eq(
    'select * from written',
    'select * from written_before',
    'an invitation expiring this instant: nothing written'
);

set local role authenticated;

select throws_ok(
    $$select public.accept_invitation('revoked-token')$$,
    'PT410',
    'invitation_revoked',
    'a revoked invitation: invitation_revoked'
);

reset role;

select results_eq(
    'select * from written',
    'select * from written_before',
    'a revoked invitation: nothing written'
);

set local role authenticated;

select throws_ok(
    $$select public.accept_invitation('used-token')$$,
    'PT409',
    'invitation_used',
    'an invitation another user accepted: invitation_used'
);

reset role;

select results_eq(
    'select * from written',
    'select * from written_before',
    'an invitation another user accepted: nothing written'
);

set local role authenticated;

select throws_ok(
    $$select public.accept_invitation('someone-else-token')$$,
    'PT403',
    'invitation_wrong_user',
    'an invitation to another address: invitation_wrong_user'
);

reset role;

select results_eq(
    'select * from written',
    'select * from written_before',
    'an invitation to another address: nothing written'
);

set local role anon;

select throws_ok(
    $$select public.accept_invitation('someone-else-token')$$,
    '42501',
    null,
    'anon cannot call accept_invitation'
);

reset role;

select * from finish();
rollback;
