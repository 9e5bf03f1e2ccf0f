begin;
select plan(8);

-- North Clinic belongs to Olive; she has invited Ivy as staff.
select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select tests.create_user('44444444-4444-4444-4444-444444444444', 'invitee@example.test', 'Ivy Invitee');
select tests.create_workspace(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'north-clinic', '11111111-1111-1111-1111-111111111111',
    'North Clinic', 'Europe/Paris'
);
select tests.create_invitation(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'invitee@example.test', 'idempotent-token',
    p_id => 'dddddddd-dddd-dddd-dddd-dddddddddddd'
);

create temp table joined (like public.workspace_members);
alter table joined add column n integer generated always as identity;
grant all on joined to authenticated;

select tests.authenticate_as('44444444-4444-4444-4444-444444444444');

insert into joined select * from public.accept_invitation('idempotent-token');

select tests.clear_authentication();

-- Backdate the acceptance to see whether a second accept rewrites it.
update public.invitations set accepted_at = '2026-01-01 00:00:00+00'
where id = 'dddddddd-dddd-dddd-dddd-dddddddddddd';

select tests.authenticate_as('44444444-4444-4444-4444-444444444444');

insert into joined select * from public.accept_invitation('idempotent-token');

select tests.clear_authentication();

select results_eq(
    'select workspace_id, user_id, role, created_at from joined order by n',
    $$
        values
        (
            'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'::uuid,
            '44444444-4444-4444-4444-444444444444'::uuid,
            'staff'::text,
            now()
        ),
        (
            'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'::uuid,
            '44444444-4444-4444-4444-444444444444'::uuid,
            'staff'::text,
            now()
        )
    $$,
    'a second accept by the same user returns the same membership'
);

select is(
    (
        select count(*)::int from public.workspace_members as m
        where m.user_id = '44444444-4444-4444-4444-444444444444'
    ),
    1,
    'still one membership'
);

select results_eq(
    $$
        select accepted_at, accepted_by from public.invitations
        where id = 'dddddddd-dddd-dddd-dddd-dddddddddddd'
    $$,
    $$values ('2026-01-01 00:00:00+00'::timestamptz, '44444444-4444-4444-4444-444444444444'::uuid)$$,
    'the second accept does not rewrite the acceptance'
);

-- The invitation expires after it was used.
update public.invitations set expires_at = now() - interval '1 day'
where id = 'dddddddd-dddd-dddd-dddd-dddddddddddd';

select tests.authenticate_as('44444444-4444-4444-4444-444444444444');

select is(
    (select m.role from public.accept_invitation('idempotent-token') as m),
    'staff',
    'an accepted invitation stays idempotent for its user after it expires'
);

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

select throws_ok(
    $$select public.accept_invitation('idempotent-token')$$,
    'PT409',
    'invitation_used',
    'another user (even a member) gets invitation_used'
);

select tests.authenticate_as('44444444-4444-4444-4444-444444444444');

-- Ivy leaves the workspace.
delete from public.workspace_members
where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa' and user_id = '44444444-4444-4444-4444-444444444444';

select is(
    private.is_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'),
    false,
    'the member left'
);

select throws_ok(
    $$select public.accept_invitation('idempotent-token')$$,
    'PT409',
    'invitation_used',
    'a used invitation does not let a former member back in'
);

select tests.clear_authentication();

select is(
    (
        select count(*)::int from public.workspace_members as m
        where m.user_id = '44444444-4444-4444-4444-444444444444'
    ),
    0,
    'the former member stays out'
);

select * from finish();
rollback;
