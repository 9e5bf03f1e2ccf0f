begin;
create extension if not exists pgtap with schema extensions;
select plan(10);

-- Runs a statement as the current role and returns how many rows it touched.
create function pg_temp.affected(p_sql text)
returns integer
language plpgsql
as $$
declare
    v_count integer;
begin
    execute p_sql;
    get diagnostics v_count = row_count;
    return v_count;
end
$$;

grant execute on function pg_temp.affected(text) to authenticated;

-- North Clinic: Olive owns it, Sam and Sue work there.
-- South Salon: two owners, Sol and Omar, and a pending invitation.
insert into auth.users (id, email, raw_user_meta_data) values
('11111111-1111-1111-1111-111111111111', 'owner@example.test', '{"full_name": "Olive Owner"}'),
('22222222-2222-2222-2222-222222222222', 'staff@example.test', '{"full_name": "Sam Staff"}'),
('33333333-3333-3333-3333-333333333333', 'sue@example.test', '{"full_name": "Sue Staff"}'),
('44444444-4444-4444-4444-444444444444', 'south@example.test', '{"full_name": "Sol South"}'),
('55555555-5555-5555-5555-555555555555', 'omar@example.test', '{"full_name": "Omar Owner"}');

insert into public.workspaces (id, name, slug, timezone, created_by) values
(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa',
    'North Clinic', 'north-clinic', 'Europe/Paris', '11111111-1111-1111-1111-111111111111'
),
(
    'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb',
    'South Salon', 'south-salon', 'Europe/Lisbon', '44444444-4444-4444-4444-444444444444'
);

insert into public.workspace_members (workspace_id, user_id, role) values
('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '11111111-1111-1111-1111-111111111111', 'owner'),
('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '22222222-2222-2222-2222-222222222222', 'staff'),
('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '33333333-3333-3333-3333-333333333333', 'staff'),
('bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb', '44444444-4444-4444-4444-444444444444', 'owner'),
('bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb', '55555555-5555-5555-5555-555555555555', 'owner');

insert into public.invitations (workspace_id, email, role, token_hash, invited_by, expires_at) values
(
    'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb', 'new@example.test', 'staff', private.token_hash('cascade-token'),
    '44444444-4444-4444-4444-444444444444', now() + interval '7 days'
);

select set_config(
    'request.jwt.claims', '{"sub": "22222222-2222-2222-2222-222222222222", "role": "authenticated"}', true
);
set local role authenticated;

select is(
    pg_temp.affected(
        $$
            delete from public.workspace_members
            where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa' and user_id = '22222222-2222-2222-2222-222222222222'
        $$
    ),
    1,
    'a staff member leaves'
);

select is(
    private.is_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'),
    false,
    'and is no longer a member'
);

select set_config(
    'request.jwt.claims', '{"sub": "33333333-3333-3333-3333-333333333333", "role": "authenticated"}', true
);

select is(
    pg_temp.affected(
        $$
            delete from public.workspace_members
            where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa' and user_id = '11111111-1111-1111-1111-111111111111'
        $$
    ),
    0,
    'a staff member cannot remove the owner'
);

select set_config(
    'request.jwt.claims', '{"sub": "11111111-1111-1111-1111-111111111111", "role": "authenticated"}', true
);

select is(
    pg_temp.affected(
        $$
            delete from public.workspace_members
            where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa' and user_id = '33333333-3333-3333-3333-333333333333'
        $$
    ),
    1,
    'the owner removes a staff member'
);

reset role;

select results_eq(
    $$select user_id, role from public.workspace_members where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'$$,
    $$values ('11111111-1111-1111-1111-111111111111'::uuid, 'owner'::text)$$,
    'only the owner is left'
);

select lives_ok(
    $$delete from public.workspaces where id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'$$,
    'deleting a workspace with a single owner cascades past keep_last_owner'
);

select is(
    (
        select count(*)::int from public.workspace_members as m
        where m.workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'
    ),
    0,
    'its memberships are gone'
);

select lives_ok(
    $$delete from public.workspaces where id = 'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb'$$,
    'deleting a workspace with two owners cascades too'
);

select is(
    (
        select count(*)::int from public.workspace_members as m
        where m.workspace_id = 'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb'
    ),
    0,
    'both owner memberships are gone'
);

select is(
    (
        select count(*)::int from public.invitations as i
        where i.workspace_id = 'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb'
    ),
    0,
    'its invitations are gone'
);

select * from finish();
rollback;
