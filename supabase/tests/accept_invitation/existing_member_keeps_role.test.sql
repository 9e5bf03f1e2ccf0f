begin;
create extension if not exists pgtap with schema extensions;
select plan(5);

-- North Clinic: Olive owns it, Sam works there. Invitations for them are
-- inserted directly (invite_member refuses members), with the other role.
insert into auth.users (id, email, raw_user_meta_data) values
('11111111-1111-1111-1111-111111111111', 'owner@example.test', '{"full_name": "Olive Owner"}'),
('22222222-2222-2222-2222-222222222222', 'staff@example.test', '{"full_name": "Sam Staff"}');

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

insert into public.invitations (id, workspace_id, email, role, token_hash, invited_by, expires_at) values
(
    'dddddddd-dddd-dddd-dddd-dddddddddd01', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'staff@example.test', 'owner',
    private.token_hash('promote-token'), '11111111-1111-1111-1111-111111111111', now() + interval '7 days'
),
(
    'dddddddd-dddd-dddd-dddd-dddddddddd02', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'owner@example.test', 'staff',
    private.token_hash('demote-token'), '11111111-1111-1111-1111-111111111111', now() + interval '7 days'
);

select set_config(
    'request.jwt.claims', '{"sub": "22222222-2222-2222-2222-222222222222", "role": "authenticated"}', true
);
set local role authenticated;

select is(
    (select m.role from public.accept_invitation('promote-token') as m),
    'staff',
    'a staff member accepting an owner invitation stays staff'
);

select set_config(
    'request.jwt.claims', '{"sub": "11111111-1111-1111-1111-111111111111", "role": "authenticated"}', true
);

select is(
    (select m.role from public.accept_invitation('demote-token') as m),
    'owner',
    'an owner accepting a staff invitation stays owner'
);

reset role;

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
