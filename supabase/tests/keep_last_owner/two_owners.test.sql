begin;
create extension if not exists pgtap with schema extensions;
select plan(12);

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

-- North Clinic has two owners, Olive and Omar, and a staff member, Sam.
insert into auth.users (id, email, raw_user_meta_data) values
('11111111-1111-1111-1111-111111111111', 'owner@example.test', '{"full_name": "Olive Owner"}'),
('22222222-2222-2222-2222-222222222222', 'staff@example.test', '{"full_name": "Sam Staff"}'),
('55555555-5555-5555-5555-555555555555', 'omar@example.test', '{"full_name": "Omar Owner"}');

insert into public.workspaces (id, name, slug, timezone, created_by) values
(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa',
    'North Clinic', 'north-clinic', 'Europe/Paris', '11111111-1111-1111-1111-111111111111'
);

insert into public.workspace_members (workspace_id, user_id, role) values
('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '11111111-1111-1111-1111-111111111111', 'owner'),
('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '22222222-2222-2222-2222-222222222222', 'staff'),
('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '55555555-5555-5555-5555-555555555555', 'owner');

select set_config(
    'request.jwt.claims', '{"sub": "11111111-1111-1111-1111-111111111111", "role": "authenticated"}', true
);
set local role authenticated;

select is(
    pg_temp.affected(
        $$
            update public.workspace_members set role = 'staff'
            where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa' and user_id = '55555555-5555-5555-5555-555555555555'
        $$
    ),
    1,
    'with two owners, one owner demotes the other'
);

select is(
    (
        select m.role from public.workspace_members as m
        where m.user_id = '55555555-5555-5555-5555-555555555555'
    ),
    'staff',
    'the demoted owner is staff'
);

select throws_ok(
    $$
        update public.workspace_members set role = 'staff'
        where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa' and user_id = '11111111-1111-1111-1111-111111111111'
    $$,
    'PT409',
    'last_owner',
    'the remaining owner is now the last one'
);

select is(
    pg_temp.affected(
        $$
            update public.workspace_members set role = 'owner'
            where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa' and user_id = '55555555-5555-5555-5555-555555555555'
        $$
    ),
    1,
    'an owner promotes a member back to owner'
);

select is(
    pg_temp.affected(
        $$
            delete from public.workspace_members
            where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa' and user_id = '11111111-1111-1111-1111-111111111111'
        $$
    ),
    1,
    'with two owners, an owner leaves'
);

select set_config(
    'request.jwt.claims', '{"sub": "55555555-5555-5555-5555-555555555555", "role": "authenticated"}', true
);

select throws_ok(
    $$
        delete from public.workspace_members
        where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa' and user_id = '55555555-5555-5555-5555-555555555555'
    $$,
    'PT409',
    'last_owner',
    'the owner left behind cannot leave'
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
        ('22222222-2222-2222-2222-222222222222'::uuid, 'staff'::text),
        ('55555555-5555-5555-5555-555555555555'::uuid, 'owner'::text)
    $$,
    'Olive left, Omar owns, Sam works'
);

-- Sam becomes a second owner again.
update public.workspace_members set role = 'owner'
where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa' and user_id = '22222222-2222-2222-2222-222222222222';

set local role authenticated;

select throws_ok(
    $$update public.workspace_members set role = 'staff' where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'$$,
    'PT409',
    'last_owner',
    'two owners cannot both be demoted in one statement'
);

select throws_ok(
    $$delete from public.workspace_members where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'$$,
    'PT409',
    'last_owner',
    'two owners cannot both be removed in one statement'
);

select is(
    pg_temp.affected(
        $$
            delete from public.workspace_members
            where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa' and user_id = '22222222-2222-2222-2222-222222222222'
        $$
    ),
    1,
    'an owner removes the other owner'
);

select throws_ok(
    $$
        update public.workspace_members set role = 'staff'
        where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa' and user_id = '55555555-5555-5555-5555-555555555555'
    $$,
    'PT409',
    'last_owner',
    'and is then the last owner'
);

reset role;

select results_eq(
    $$
        select user_id, role from public.workspace_members
        where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'
    $$,
    $$values ('55555555-5555-5555-5555-555555555555'::uuid, 'owner'::text)$$,
    'one owner is left'
);

select * from finish();
rollback;
