begin;
select plan(5);

-- Max signed up with capitals in his address; Olive invites it in lower case.
select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select tests.create_user('66666666-6666-6666-6666-666666666666', 'Max.Mixed@Example.TEST', 'Max Mixed');
select tests.create_workspace(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'north-clinic', '11111111-1111-1111-1111-111111111111',
    'North Clinic', 'Europe/Paris'
);

create temp table invited (
    invitation_id uuid,
    email text,
    role text,
    token text,
    expires_at timestamptz
);
grant all on invited to authenticated;

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

insert into invited
select * from public.invite_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', ' max.mixed@example.test ');

select is(
    (select v.email from invited as v),
    'max.mixed@example.test',
    'the invitation holds the lower-case address'
);

select tests.authenticate_as('66666666-6666-6666-6666-666666666666');

select results_eq(
    $$select workspace_id, user_id, role from public.accept_invitation((select v.token from invited as v))$$,
    $$
        values (
            'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'::uuid,
            '66666666-6666-6666-6666-666666666666'::uuid,
            'staff'::text
        )
    $$,
    'a user whose auth email differs only in case accepts'
);

select is(
    private.is_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'),
    true,
    'and is a member'
);

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

select throws_ok(
    $$select public.invite_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'MAX.MIXED@example.test')$$,
    'PT409',
    'already_member',
    'inviting the member again in any case gives already_member'
);

select tests.clear_authentication();

select is(
    (
        select i.accepted_by from public.invitations as i
        where i.workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'
    ),
    '66666666-6666-6666-6666-666666666666'::uuid,
    'the invitation is accepted by that user'
);

select * from finish();
rollback;
