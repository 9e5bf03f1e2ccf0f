begin;
create extension if not exists pgtap with schema extensions;
select plan(5);

-- North Clinic: Olive owns it, Sam works there. South Salon: Sam owns it, Sol works there.
-- Lou belongs nowhere.
insert into auth.users (id, email, raw_user_meta_data) values
('11111111-1111-1111-1111-111111111111', 'owner@example.test', '{"full_name": "Olive Owner"}'),
('22222222-2222-2222-2222-222222222222', 'staff@example.test', '{"full_name": "Sam Staff"}'),
('33333333-3333-3333-3333-333333333333', 'south@example.test', '{"full_name": "Sol South"}'),
('44444444-4444-4444-4444-444444444444', 'loner@example.test', '{"full_name": "Lou Loner"}');

insert into public.workspaces (id, name, slug, timezone, created_by) values
(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa',
    'North Clinic', 'north-clinic', 'Europe/Paris', '11111111-1111-1111-1111-111111111111'
),
(
    'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb',
    'South Salon', 'south-salon', 'Europe/Lisbon', '22222222-2222-2222-2222-222222222222'
);

insert into public.workspace_members (workspace_id, user_id, role) values
('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '11111111-1111-1111-1111-111111111111', 'owner'),
('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '22222222-2222-2222-2222-222222222222', 'staff'),
('bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb', '22222222-2222-2222-2222-222222222222', 'owner'),
('bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb', '33333333-3333-3333-3333-333333333333', 'staff');

set local role authenticated;

select set_config(
    'request.jwt.claims', '{"sub": "11111111-1111-1111-1111-111111111111", "role": "authenticated"}', true
);

select is(
    private.member_workspace_ids(),
    array['aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa']::uuid[],
    'an owner gets the workspace they own'
);

select set_config(
    'request.jwt.claims', '{"sub": "22222222-2222-2222-2222-222222222222", "role": "authenticated"}', true
);

select is(
    (
        select array_agg(w order by w)
        from unnest(private.member_workspace_ids()) as w
    ),
    array['aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb']::uuid[],
    'a user gets every workspace they belong to, in any role'
);

select set_config(
    'request.jwt.claims', '{"sub": "33333333-3333-3333-3333-333333333333", "role": "authenticated"}', true
);

select is(
    private.member_workspace_ids(),
    array['bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb']::uuid[],
    'a staff member gets the workspace they work in'
);

select set_config(
    'request.jwt.claims', '{"sub": "44444444-4444-4444-4444-444444444444", "role": "authenticated"}', true
);

select is(
    private.member_workspace_ids(),
    '{}'::uuid[],
    'a user without workspaces gets an empty array, not null'
);

select set_config('request.jwt.claims', '', true);

select is(
    private.member_workspace_ids(),
    '{}'::uuid[],
    'no signed-in user gets an empty array'
);

reset role;

select * from finish();
rollback;
