begin;
select plan(5);

-- North Clinic: Olive owns it, Sam works there. Their memberships are inserted directly,
-- dated in the past, to show that accepting leaves them alone. Invitations for them are
-- written directly too (invite_member refuses members), with the other role.
select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select tests.create_user('22222222-2222-2222-2222-222222222222', 'staff@example.test', 'Sam Staff');

insert into public.workspaces (id, name, slug, timezone, created_by) values
(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa',
    'North Clinic', 'north-clinic', 'Europe/Paris', '11111111-1111-1111-1111-111111111111'
);

insert into public.workspace_members (workspace_id, user_id, role, created_at, updated_at) values
(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '11111111-1111-1111-1111-111111111111', 'owner',
    '2026-01-01 00:00:00+00', '2026-01-01 00:00:00+00'
),
(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '22222222-2222-2222-2222-222222222222', 'staff',
    '2026-01-01 00:00:00+00', '2026-01-01 00:00:00+00'
);

select tests.create_invitation(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'staff@example.test', 'promote-token', 'owner',
    'dddddddd-dddd-dddd-dddd-dddddddddd01'
);
select tests.create_invitation(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'owner@example.test', 'demote-token', 'staff',
    'dddddddd-dddd-dddd-dddd-dddddddddd02'
);

select tests.authenticate_as('22222222-2222-2222-2222-222222222222');

select is(
    (select m.role from public.accept_invitation('promote-token') as m),
    'staff',
    'a staff member accepting an owner invitation stays staff'
);

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

select is(
    (select m.role from public.accept_invitation('demote-token') as m),
    'owner',
    'an owner accepting a staff invitation stays owner'
);

select tests.clear_authentication();

select results_eq(
    $$
        select user_id, role from public.workspace_members
        where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'
        order by user_id
    $$,
    $$
        values
        ('11111111-1111-1111-1111-111111111111'::uuid, 'owner'::text),
        ('22222222-2222-2222-2222-222222222222'::uuid, 'staff'::text)
    $$,
    'the memberships are unchanged'
);

select results_eq(
    $$
        select id, accepted_at, accepted_by from public.invitations
        where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'
        order by id
    $$,
    $$
        values
        ('dddddddd-dddd-dddd-dddd-dddddddddd01'::uuid, now(), '22222222-2222-2222-2222-222222222222'::uuid),
        ('dddddddd-dddd-dddd-dddd-dddddddddd02'::uuid, now(), '11111111-1111-1111-1111-111111111111'::uuid)
    $$,
    'both invitations are marked accepted'
);

select is(
    (
        select count(*)::int from public.workspace_members as m
        where
            m.workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'
            and m.created_at = '2026-01-01 00:00:00+00' and m.updated_at = '2026-01-01 00:00:00+00'
    ),
    2,
    'neither membership row was replaced or updated'
);

select * from finish();
rollback;
