begin;
select plan(9);

select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select tests.create_workspace(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'north-clinic', '11111111-1111-1111-1111-111111111111',
    'North Clinic', 'Europe/Paris'
);

create temp table invited (invitation_id uuid, email text, role text, token text, expires_at timestamptz);
grant all on invited to authenticated, service_role;

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');
insert into invited
select * from public.invite_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'ivy@example.test', 'owner');
select tests.clear_authentication();

select is(
    (
        select m.message from pgmq.q_jobs as m
        where m.message ->> 'kind' = 'invitation_created'
    ),
    (
        select
            jsonb_build_object(
                'kind', 'invitation_created', 'payload', jsonb_build_object('invitation_id', v.invitation_id)
            )
        from invited as v
    ),
    'the job names only the invitation'
);

select tests.authenticate_as_service_role();
select results_eq(
    $$select * from private.invitation_delivery((select v.invitation_id from invited as v))$$,
    $$
        select v.invitation_id, 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'::uuid, 'North Clinic', 'ivy@example.test',
            'owner', 'Olive Owner', v.token, v.expires_at, true
        from invited as v
    $$,
    'service_role reads what the email needs, with the very token invite_member returned'
);
select is_empty(
    $$select * from private.invitation_delivery('dddddddd-dddd-dddd-dddd-dddddddddddd')$$,
    'no row for an unknown invitation'
);
select tests.clear_authentication();

select is(
    (select i.token_hash from public.invitations as i),
    (select private.token_hash(v.token) from invited as v),
    'the stored hash is still sha256 of the token'
);

update public.invitations set expires_at = now() - interval '1 second';
select tests.authenticate_as_service_role();
select results_eq(
    $$select token, is_open from private.invitation_delivery((select v.invitation_id from invited as v))$$,
    $$values (null::text, false)$$,
    'an expired invitation is not open and has no token'
);
select tests.clear_authentication();

update public.invitations set expires_at = now() + interval '1 day', accepted_at = now();
select tests.authenticate_as_service_role();
select results_eq(
    $$select token, is_open from private.invitation_delivery((select v.invitation_id from invited as v))$$,
    $$values (null::text, false)$$,
    'an accepted invitation is not open and has no token'
);

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');
select throws_ok(
    $$select * from private.invitation_delivery((select v.invitation_id from invited as v))$$,
    '42501', null, 'authenticated may not execute it'
);
select tests.authenticate_as_anon();
select throws_ok(
    $$select * from private.invitation_delivery((select v.invitation_id from invited as v))$$,
    '42501', null, 'anon may not execute it'
);
select tests.authenticate_as_service_role();
select throws_ok(
    'select secret from private.token_keys',
    '42501', null, 'not even service_role reads the key'
);

select * from finish();
rollback;
