begin;
select plan(8);

-- North Clinic: Olive owns it and has invited Ivy.
select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select tests.create_user('44444444-4444-4444-4444-444444444444', 'invitee@example.test', 'Ivy Invitee');
select tests.create_workspace(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'north-clinic', '11111111-1111-1111-1111-111111111111',
    'North Clinic', 'Europe/Paris'
);
select tests.create_invitation(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'invitee@example.test', 'revoke-token',
    p_id => 'dddddddd-dddd-dddd-dddd-dddddddddddd'
);

create temp table revoked (like public.invitations);
alter table revoked add column n integer generated always as identity;
grant all on revoked to authenticated;

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

insert into revoked select * from public.revoke_invitation('dddddddd-dddd-dddd-dddd-dddddddddddd');

select tests.clear_authentication();

select results_eq(
    'select id, revoked_at, accepted_at from revoked where n = 1',
    $$values ('dddddddd-dddd-dddd-dddd-dddddddddddd'::uuid, now(), null::timestamptz)$$,
    'the owner revokes: the returned invitation is revoked now'
);

select results_eq(
    'select * from public.invitations where id = ''dddddddd-dddd-dddd-dddd-dddddddddddd''',
    'select id, workspace_id, email, role, token_hash, invited_by, expires_at, accepted_at, accepted_by, '
    || 'revoked_at, created_at, token_nonce from revoked where n = 1',
    'the returned row is the stored row'
);

-- Backdate the revocation to see whether a second revoke rewrites it.
update public.invitations set revoked_at = '2026-01-01 00:00:00+00'
where id = 'dddddddd-dddd-dddd-dddd-dddddddddddd';

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

select lives_ok(
    $$insert into revoked select * from public.revoke_invitation('dddddddd-dddd-dddd-dddd-dddddddddddd')$$,
    'revoking again raises nothing'
);

select tests.clear_authentication();

select is(
    (
        select r.revoked_at from revoked as r
        where r.n = 2
    ),
    '2026-01-01 00:00:00+00'::timestamptz,
    'the second revoke returns the original revocation'
);

select is(
    (
        select i.revoked_at from public.invitations as i
        where i.id = 'dddddddd-dddd-dddd-dddd-dddddddddddd'
    ),
    '2026-01-01 00:00:00+00'::timestamptz,
    'and does not rewrite it'
);

select tests.authenticate_as('44444444-4444-4444-4444-444444444444');

select throws_ok(
    $$select public.accept_invitation('revoke-token')$$,
    'PT410',
    'invitation_revoked',
    'the revoked token cannot be accepted'
);

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

select is(
    (select v.email from public.invite_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'invitee@example.test') as v),
    'invitee@example.test',
    'the address can be invited again'
);

select tests.clear_authentication();

select is(
    (
        select count(*)::int from public.workspace_members as m
        where m.user_id = '44444444-4444-4444-4444-444444444444'
    ),
    0,
    'the invitee did not join'
);

select * from finish();
rollback;
