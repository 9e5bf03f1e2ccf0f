begin;
select plan(9);

-- North Clinic belongs to Olive; she invites Ivy as staff and Pat as owner.
select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select tests.create_user('44444444-4444-4444-4444-444444444444', 'invitee@example.test', 'Ivy Invitee');
select tests.create_user('55555555-5555-5555-5555-555555555555', 'partner@example.test', 'Pat Partner');
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

create temp table joined (like public.workspace_members);
grant all on joined to authenticated;

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

insert into invited
select * from public.invite_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'invitee@example.test');
insert into invited
select * from public.invite_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'partner@example.test', 'owner');

select tests.authenticate_as('44444444-4444-4444-4444-444444444444');

insert into joined
select * from public.accept_invitation(
    (
        select v.token from invited as v
        where v.email = 'invitee@example.test'
    )
);

select is(
    (select w.name from public.workspaces as w),
    'North Clinic',
    'the new member reads the workspace'
);

select is(
    private.has_role('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'owner'),
    false,
    'a staff invitation does not make an owner'
);

select tests.authenticate_as('55555555-5555-5555-5555-555555555555');

insert into joined
select * from public.accept_invitation(
    (
        select v.token from invited as v
        where v.email = 'partner@example.test'
    )
);

select is(
    private.has_role('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'owner'),
    true,
    'an owner invitation makes an owner'
);

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

select is(
    (
        select p.full_name from public.profiles as p
        where p.id = '44444444-4444-4444-4444-444444444444'
    ),
    'Ivy Invitee',
    'the owner now reads the new member''s profile'
);

select tests.clear_authentication();

select results_eq(
    'select workspace_id, user_id, role from joined order by user_id',
    $$
        values
        (
            'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'::uuid,
            '44444444-4444-4444-4444-444444444444'::uuid,
            'staff'::text
        ),
        (
            'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'::uuid,
            '55555555-5555-5555-5555-555555555555'::uuid,
            'owner'::text
        )
    $$,
    'accept_invitation returns the membership with the invitation''s role'
);

select results_eq(
    $$
        select user_id, role from public.workspace_members
        where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'
        order by user_id
    $$,
    $$
        values
        ('11111111-1111-1111-1111-111111111111'::uuid, 'owner'::text),
        ('44444444-4444-4444-4444-444444444444'::uuid, 'staff'::text),
        ('55555555-5555-5555-5555-555555555555'::uuid, 'owner'::text)
    $$,
    'the memberships are stored'
);

select results_eq(
    'select * from joined order by user_id',
    $$
        select * from public.workspace_members
        where user_id in ('44444444-4444-4444-4444-444444444444', '55555555-5555-5555-5555-555555555555')
        order by user_id
    $$,
    'the returned rows are the stored rows'
);

select results_eq(
    $$
        select i.email, i.accepted_at, i.accepted_by, i.revoked_at
        from public.invitations as i
        where i.workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'
        order by i.email
    $$,
    $$
        values
        ('invitee@example.test', now(), '44444444-4444-4444-4444-444444444444'::uuid, null::timestamptz),
        ('partner@example.test', now(), '55555555-5555-5555-5555-555555555555'::uuid, null::timestamptz)
    $$,
    'each invitation is marked accepted by its user'
);

select is(
    (
        select count(*)::int from public.invitations as i
        where
            i.workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'
            and i.accepted_at is null and i.revoked_at is null
    ),
    0,
    'no invitation is left open'
);

select * from finish();
rollback;
