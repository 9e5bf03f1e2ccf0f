begin;
create extension if not exists pgtap with schema extensions;
select plan(10);

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
    private.has_role('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'owner'),
    true,
    'an owner has the owner role'
);

select is(
    private.has_role('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'staff'),
    true,
    'an owner passes for staff'
);

select is(
    private.has_role('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'admin'),
    false,
    'an owner does not pass for an unknown role'
);

select is(
    private.has_role('bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb', 'staff'),
    false,
    'no role in a workspace one is not in'
);

select set_config(
    'request.jwt.claims', '{"sub": "22222222-2222-2222-2222-222222222222", "role": "authenticated"}', true
);

select is(
    private.has_role('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'staff'),
    true,
    'staff have the staff role'
);

select is(
    private.has_role('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'owner'),
    false,
    'staff do not pass for owner'
);

select is(
    private.has_role('bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb', 'owner'),
    true,
    'roles are per workspace'
);

select set_config(
    'request.jwt.claims', '{"sub": "33333333-3333-3333-3333-333333333333", "role": "authenticated"}', true
);

select is(
    private.has_role('bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb', null),
    false,
    'a null role is never held'
);

select is(
    private.has_role('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'staff'),
    false,
    'staff elsewhere have no role here'
);

select set_config('request.jwt.claims', '', true);

select is(
    private.has_role('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'staff'),
    false,
    'no signed-in user holds any role'
);

reset role;

select * from finish();
rollback;
