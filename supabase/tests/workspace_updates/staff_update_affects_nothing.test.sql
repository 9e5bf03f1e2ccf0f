begin;
create extension if not exists pgtap with schema extensions;
select plan(8);

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

-- North Clinic: Olive owns it, Sam works there. South Salon belongs to Sol. Lou belongs nowhere.
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
    'South Salon', 'south-salon', 'Europe/Lisbon', '33333333-3333-3333-3333-333333333333'
);

insert into public.workspace_members (workspace_id, user_id, role) values
('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '11111111-1111-1111-1111-111111111111', 'owner'),
('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '22222222-2222-2222-2222-222222222222', 'staff'),
('bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb', '33333333-3333-3333-3333-333333333333', 'owner');

select set_config(
    'request.jwt.claims', '{"sub": "22222222-2222-2222-2222-222222222222", "role": "authenticated"}', true
);
set local role authenticated;

select is(
    pg_temp.affected(
        $$update public.workspaces set name = 'Hijacked' where id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'$$
    ),
    0,
    'a staff member''s update of their workspace affects 0 rows'
);

select is(
    pg_temp.affected($$update public.workspaces set timezone = 'UTC'$$),
    0,
    'a staff member''s update without a filter affects 0 rows'
);

select is(
    pg_temp.affected(
        $$update public.workspaces set slug = 'Bad Slug' where id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'$$
    ),
    0,
    'a staff member''s invalid update is filtered out before validation'
);

select is(
    pg_temp.affected(
        $$
            update public.workspace_members set role = 'owner'
            where user_id = '22222222-2222-2222-2222-222222222222'
        $$
    ),
    0,
    'a staff member cannot promote themselves'
);

select set_config(
    'request.jwt.claims', '{"sub": "44444444-4444-4444-4444-444444444444", "role": "authenticated"}', true
);

select is(
    pg_temp.affected(
        $$update public.workspaces set name = 'Hijacked' where id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'$$
    ),
    0,
    'an outsider''s update affects 0 rows'
);

reset role;

select results_eq(
    $$select name, slug, timezone from public.workspaces where id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'$$,
    $$values ('North Clinic', 'north-clinic', 'Europe/Paris')$$,
    'the workspace is unchanged'
);

select is(
    (
        select count(*)::int from public.workspaces as w
        where w.timezone = 'UTC' and w.id in (
            'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb'
        )
    ),
    0,
    'no workspace took the unfiltered update'
);

select is(
    (
        select m.role from public.workspace_members as m
        where m.user_id = '22222222-2222-2222-2222-222222222222'
    ),
    'staff',
    'the staff member is still staff'
);

select * from finish();
rollback;
