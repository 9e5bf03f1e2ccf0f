begin;
create extension if not exists pgtap with schema extensions;
select plan(8);

insert into auth.users (id, email, raw_user_meta_data) values
('11111111-1111-1111-1111-111111111111', 'owner@example.test', '{"full_name": "Olive Owner"}'),
('44444444-4444-4444-4444-444444444444', 'invitee@example.test', '{"full_name": "Ivy Invitee"}');

insert into public.workspaces (id, name, slug, timezone, created_by) values
(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa',
    'North Clinic', 'north-clinic', 'Europe/Paris', '11111111-1111-1111-1111-111111111111'
);

insert into public.workspace_members (workspace_id, user_id, role) values
('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '11111111-1111-1111-1111-111111111111', 'owner');

insert into public.invitations (id, workspace_id, email, role, token_hash, invited_by, expires_at) values
(
    'dddddddd-dddd-dddd-dddd-dddddddddddd', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'invitee@example.test', 'staff',
    private.token_hash('idempotent-token'), '11111111-1111-1111-1111-111111111111', now() + interval '7 days'
);

create temp table joined (like public.workspace_members);
alter table joined add column n integer generated always as identity;
grant all on joined to authenticated;

select set_config(
    'request.jwt.claims', '{"sub": "44444444-4444-4444-4444-444444444444", "role": "authenticated"}', true
);
set local role authenticated;

insert into joined select * from public.accept_invitation('idempotent-token');

reset role;

-- Backdate the acceptance to see whether a second accept rewrites it.
update public.invitations set accepted_at = '2026-01-01 00:00:00+00'
where id = 'dddddddd-dddd-dddd-dddd-dddddddddddd';

set local role authenticated;

insert into joined select * from public.accept_invitation('idempotent-token');

reset role;

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

set local role authenticated;

select is(
    (select m.role from public.accept_invitation('idempotent-token') as m),
    'staff',
    'an accepted invitation stays idempotent for its user after it expires'
);

select set_config(
    'request.jwt.claims', '{"sub": "11111111-1111-1111-1111-111111111111", "role": "authenticated"}', true
);

select throws_ok(
    $$select public.accept_invitation('idempotent-token')$$,
    'PT409',
    'invitation_used',
    'another user (even a member) gets invitation_used'
);

select set_config(
    'request.jwt.claims', '{"sub": "44444444-4444-4444-4444-444444444444", "role": "authenticated"}', true
);

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

reset role;

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
