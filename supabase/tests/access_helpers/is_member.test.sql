begin;
create extension if not exists pgtap with schema extensions;
select plan(7);

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
    private.is_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'),
    true,
    'an owner is a member of their workspace'
);

select is(
    private.is_member('bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb'),
    false,
    'an owner is not a member of a workspace they are not in'
);

select is(
    private.is_member(null),
    false,
    'nobody is a member of a null workspace'
);

select set_config(
    'request.jwt.claims', '{"sub": "22222222-2222-2222-2222-222222222222", "role": "authenticated"}', true
);

select is(
    private.is_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'),
    true,
    'staff are members'
);

select is(
    private.is_member('bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb'),
    true,
    'a user is a member of every workspace they belong to'
);

select set_config(
    'request.jwt.claims', '{"sub": "44444444-4444-4444-4444-444444444444", "role": "authenticated"}', true
);

select is(
    private.is_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'),
    false,
    'a user without workspaces is a member of none'
);

select set_config('request.jwt.claims', '', true);

select is(
    private.is_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'),
    false,
    'no signed-in user is a member of anything'
);

reset role;

select * from finish();
rollback;
