begin;
select plan(13);

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

-- What invite_member returned, kept for the checks below.
create temp table invited (
    invitation_id uuid,
    email text,
    role text,
    token text,
    expires_at timestamptz,
    n integer generated always as identity
);
grant all on invited to authenticated;

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

insert into invited
select * from public.invite_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '  New.Person@Example.TEST ');
insert into invited
select * from public.invite_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'co-owner@example.test', 'owner', 30);
insert into invited
select * from public.invite_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'brief@example.test', 'staff', 1);

select is(
    (select count(*)::int from public.invitations),
    3,
    'the owner reads the workspace''s invitations'
);

select tests.authenticate_as('22222222-2222-2222-2222-222222222222');

select is(
    (select count(*)::int from public.invitations),
    0,
    'staff do not read invitations'
);

select tests.clear_authentication();

select is(
    (
        select count(*)::int from invited as v
        where v.invitation_id is not null
    ),
    3,
    'each call returns an invitation_id'
);

select results_eq(
    'select email, role, expires_at from invited order by email',
    $$
        values
        ('brief@example.test', 'staff', now() + interval '1 day'),
        ('co-owner@example.test', 'owner', now() + interval '30 days'),
        ('new.person@example.test', 'staff', now() + interval '7 days')
    $$,
    'email normalized, role (staff by default), expiry days from now (7 by default)'
);

select is(
    (
        select count(*)::int from invited as v
        where v.token ~ '^[A-Za-z0-9_-]{43}$'
    ),
    3,
    'each token is 43 url-safe characters'
);

select is(
    (select count(distinct v.token)::int from invited as v),
    3,
    'tokens differ'
);

select results_eq(
    $$
        select id, workspace_id, email, role, token_hash, invited_by, expires_at, accepted_at, accepted_by, revoked_at
        from public.invitations
        where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'
        order by email
    $$,
    $$
        select
            v.invitation_id,
            'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'::uuid,
            v.email,
            v.role,
            private.token_hash(v.token),
            '11111111-1111-1111-1111-111111111111'::uuid,
            v.expires_at,
            null::timestamptz,
            null::uuid,
            null::timestamptz
        from invited as v
        order by v.email
    $$,
    'the stored invitations match, with token_hash = private.token_hash(token)'
);

select is(
    (
        select i.token_hash from public.invitations as i
        where i.email = 'new.person@example.test'
    ),
    (
        select sha256(convert_to(v.token, 'UTF8')) from invited as v
        where v.email = 'new.person@example.test'
    ),
    'token_hash is the sha256 of the token'
);

select is(
    (
        select count(*)::int from public.invitations as i
        inner join invited as v on i.token_hash = convert_to(v.token, 'UTF8')
    ),
    0,
    'the token itself is not what is stored'
);

select results_eq(
    $$
        select m.message
        from pgmq.q_jobs as m
        inner join invited as v on m.message #>> '{payload,invitation_id}' = v.invitation_id::text
        order by v.email
    $$,
    $$
        select jsonb_build_object(
            'kind', 'invitation_created',
            'payload', jsonb_build_object('invitation_id', v.invitation_id)
        )
        from invited as v
        order by v.email
    $$,
    'each invitation queued one invitation_created job that names only the invitation'
);

select is(
    (
        select count(*)::int from pgmq.q_jobs as m
        inner join invited as v on strpos(m.message::text, v.token) > 0
    ),
    0,
    'no token in the queue'
);

select is(
    (
        select count(*)::int
        from pgmq.q_jobs
        where message ->> 'kind' = 'invitation_created'
    ),
    3,
    'no other job: none for another workspace'
);

select is(
    (
        select count(*)::int from public.invitations as i
        where i.workspace_id = 'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb'
    ),
    0,
    'no invitation in another workspace'
);

select * from finish();
rollback;
