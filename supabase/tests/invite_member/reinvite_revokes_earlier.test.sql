begin;
select plan(8);

-- North Clinic: Olive owns it, Sam works there. South Salon belongs to Sol. Olive invites Ada twice.
select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select tests.create_user('22222222-2222-2222-2222-222222222222', 'staff@example.test', 'Sam Staff');
select tests.create_user('33333333-3333-3333-3333-333333333333', 'south@example.test', 'Sol South');
select tests.create_user('44444444-4444-4444-4444-444444444444', 'again@example.test', 'Ada Again');
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
select * from public.invite_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'again@example.test');
insert into invited
select * from public.invite_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'other@example.test');
insert into invited
select * from public.invite_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', ' AGAIN@example.test', 'owner', 14);

select tests.clear_authentication();

-- The two invitations of again@example.test, in the order they were made.
create temp view again as
select
    v.invitation_id,
    v.token,
    i.role,
    i.revoked_at,
    row_number() over (order by v.n) as n
from invited as v
inner join public.invitations as i on v.invitation_id = i.id
where v.email = 'again@example.test';
grant select on again to authenticated;

select is(
    (select count(*)::int from again),
    2,
    'both invitations of the address exist'
);

select results_eq(
    'select n, role, revoked_at from again order by n',
    $$values (1::bigint, 'staff', now()), (2::bigint, 'owner', null::timestamptz)$$,
    're-inviting the same address revokes the earlier open invitation'
);

select is(
    (
        select count(*)::int from public.invitations as i
        where
            i.workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'
            and i.accepted_at is null and i.revoked_at is null
    ),
    2,
    'one open invitation per address: again@ and other@'
);

select is(
    (
        select i.revoked_at from public.invitations as i
        where i.email = 'other@example.test'
    ),
    null,
    'an invitation to another address stays open'
);

select is(
    (
        select count(*)::int from pgmq.q_jobs as j
        inner join again as a on j.message = jsonb_build_object(
            'kind', 'invitation_created', 'payload', jsonb_build_object('invitation_id', a.invitation_id)
        )
    ),
    2,
    'each invitation queued its own job'
);

select tests.authenticate_as('44444444-4444-4444-4444-444444444444');

select throws_ok(
    format(
        'select public.accept_invitation(%L)',
        (
            select a.token from again as a
            where a.n = 1
        )
    ),
    'PT410',
    'invitation_revoked',
    'the earlier token no longer works'
);

select is(
    (
        select m.role from public.accept_invitation(
            (
                select a.token from again as a
                where a.n = 2
            )
        ) as m
    ),
    'owner',
    'the later token does, with its role'
);

select tests.clear_authentication();

select is(
    (
        select m.role from public.workspace_members as m
        where m.user_id = '44444444-4444-4444-4444-444444444444'
    ),
    'owner',
    'the invitee joined once, as owner'
);

select * from finish();
rollback;
