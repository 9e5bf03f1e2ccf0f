begin;
create extension if not exists pgtap with schema extensions;
select plan(41);

-- Runs a statement and returns what it raised: sqlstate, message and detail.
create function pg_temp.caught(p_sql text)
returns jsonb
language plpgsql
as $$
declare
    v_state text;
    v_message text;
    v_detail text;
begin
    execute p_sql;
    return null;
exception when others then
    get stacked diagnostics
        v_state = returned_sqlstate,
        v_message = message_text,
        v_detail = pg_exception_detail;
    return jsonb_build_object('sqlstate', v_state, 'message', v_message, 'detail', v_detail);
end
$$;

grant execute on function pg_temp.caught(text) to authenticated;

-- Olive will try to create workspaces; Tess already owns "taken-slug".
insert into auth.users (id, email, raw_user_meta_data) values
('11111111-1111-1111-1111-111111111111', 'owner@example.test', '{"full_name": "Olive Owner"}'),
('22222222-2222-2222-2222-222222222222', 'taken@example.test', '{"full_name": "Tess Taken"}');

insert into public.workspaces (id, name, slug, timezone, created_by) values
(
    'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb',
    'Taken', 'taken-slug', 'UTC', '22222222-2222-2222-2222-222222222222'
);
insert into public.workspace_members (workspace_id, user_id, role) values
('bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb', '22222222-2222-2222-2222-222222222222', 'owner');

-- What create_workspace could have written: rows of these two users.
create temp view written as
select
    (
        select count(*)::int from public.workspaces as w
        where w.created_by in ('11111111-1111-1111-1111-111111111111', '22222222-2222-2222-2222-222222222222')
    ) as workspaces,
    (
        select count(*)::int from public.workspace_members as m
        where m.user_id in ('11111111-1111-1111-1111-111111111111', '22222222-2222-2222-2222-222222222222')
    ) as members;

create temp table written_before as select * from written;

select results_eq(
    'select * from written_before',
    $$values (1, 1)$$,
    'before: one workspace, one membership'
);

select set_config('request.jwt.claims', '', true);
set local role authenticated;

select throws_ok(
    $$select public.create_workspace('North Clinic', 'north-clinic', 'Europe/Paris')$$,
    'PT401',
    'not_authenticated',
    'no signed-in user: not_authenticated'
);

reset role;

select results_eq(
    'select * from written',
    'select * from written_before',
    'not_authenticated writes nothing'
);

select set_config(
    'request.jwt.claims', '{"sub": "11111111-1111-1111-1111-111111111111", "role": "authenticated"}', true
);

set local role authenticated;

select throws_ok(
    $$select public.create_workspace('', 'north-clinic', 'Europe/Paris')$$,
    'PT400',
    'invalid_name',
    'an empty name: invalid_name'
);

reset role;

select results_eq(
    'select * from written',
    'select * from written_before',
    'an empty name: nothing written'
);

set local role authenticated;

select throws_ok(
    $$select public.create_workspace('   ', 'north-clinic', 'Europe/Paris')$$,
    'PT400',
    'invalid_name',
    'a blank name: invalid_name'
);

reset role;

select results_eq(
    'select * from written',
    'select * from written_before',
    'a blank name: nothing written'
);

set local role authenticated;

select throws_ok(
    $$select public.create_workspace(null, 'north-clinic', 'Europe/Paris')$$,
    'PT400',
    'invalid_name',
    'a null name: invalid_name'
);

reset role;

select results_eq(
    'select * from written',
    'select * from written_before',
    'a null name: nothing written'
);

set local role authenticated;

select throws_ok(
    $$select public.create_workspace(repeat('n', 121), 'north-clinic', 'Europe/Paris')$$,
    'PT400',
    'invalid_name',
    'a 121-character name: invalid_name'
);

reset role;

select results_eq(
    'select * from written',
    'select * from written_before',
    'a 121-character name: nothing written'
);

set local role authenticated;

select throws_ok(
    $$select public.create_workspace('North Clinic', 'ab', 'Europe/Paris')$$,
    'PT400',
    'invalid_slug',
    'a 2-character slug: invalid_slug'
);

reset role;

select results_eq(
    'select * from written',
    'select * from written_before',
    'a 2-character slug: nothing written'
);

set local role authenticated;

select throws_ok(
    $$select public.create_workspace('North Clinic', 'north clinic', 'Europe/Paris')$$,
    'PT400',
    'invalid_slug',
    'a slug with a space: invalid_slug'
);

reset role;

select results_eq(
    'select * from written',
    'select * from written_before',
    'a slug with a space: nothing written'
);

set local role authenticated;

select throws_ok(
    $$select public.create_workspace('North Clinic', '-north-clinic', 'Europe/Paris')$$,
    'PT400',
    'invalid_slug',
    'a slug with a leading hyphen: invalid_slug'
);

reset role;

select results_eq(
    'select * from written',
    'select * from written_before',
    'a slug with a leading hyphen: nothing written'
);

set local role authenticated;

select throws_ok(
    $$select public.create_workspace('North Clinic', 'north-clinic-', 'Europe/Paris')$$,
    'PT400',
    'invalid_slug',
    'a slug with a trailing hyphen: invalid_slug'
);

reset role;

select results_eq(
    'select * from written',
    'select * from written_before',
    'a slug with a trailing hyphen: nothing written'
);

set local role authenticated;

select throws_ok(
    $$select public.create_workspace('North Clinic', 'north--clinic', 'Europe/Paris')$$,
    'PT400',
    'invalid_slug',
    'a slug with a double hyphen: invalid_slug'
);

reset role;

select results_eq(
    'select * from written',
    'select * from written_before',
    'a slug with a double hyphen: nothing written'
);

set local role authenticated;

select throws_ok(
    $$select public.create_workspace('North Clinic', 'north_clinic', 'Europe/Paris')$$,
    'PT400',
    'invalid_slug',
    'a slug with an underscore: invalid_slug'
);

reset role;

select results_eq(
    'select * from written',
    'select * from written_before',
    'a slug with an underscore: nothing written'
);

set local role authenticated;

select throws_ok(
    $$select public.create_workspace('North Clinic', repeat('a', 64), 'Europe/Paris')$$,
    'PT400',
    'invalid_slug',
    'a 64-character slug: invalid_slug'
);

reset role;

select results_eq(
    'select * from written',
    'select * from written_before',
    'a 64-character slug: nothing written'
);

set local role authenticated;

select throws_ok(
    $$select public.create_workspace('North Clinic', null, 'Europe/Paris')$$,
    'PT400',
    'invalid_slug',
    'a null slug: invalid_slug'
);

reset role;

select results_eq(
    'select * from written',
    'select * from written_before',
    'a null slug: nothing written'
);

set local role authenticated;

select throws_ok(
    $$select public.create_workspace('North Clinic', 'taken-slug', 'Europe/Paris')$$,
    'PT409',
    'slug_taken',
    'a slug in use: slug_taken'
);

reset role;

select results_eq(
    'select * from written',
    'select * from written_before',
    'a slug in use: nothing written'
);

set local role authenticated;

select throws_ok(
    $$select public.create_workspace('North Clinic', ' Taken-Slug ', 'Europe/Paris')$$,
    'PT409',
    'slug_taken',
    'a slug in use once normalized: slug_taken'
);

reset role;

select results_eq(
    'select * from written',
    'select * from written_before',
    'a slug in use once normalized: nothing written'
);

set local role authenticated;

select throws_ok(
    $$select public.create_workspace('North Clinic', 'north-clinic', 'Mars/Olympus_Mons')$$,
    'PT400',
    'invalid_timezone',
    'an unknown time zone: invalid_timezone'
);

reset role;

select results_eq(
    'select * from written',
    'select * from written_before',
    'an unknown time zone: nothing written'
);

set local role authenticated;

select throws_ok(
    $$select public.create_workspace('North Clinic', 'north-clinic', '')$$,
    'PT400',
    'invalid_timezone',
    'an empty time zone: invalid_timezone'
);

reset role;

select results_eq(
    'select * from written',
    'select * from written_before',
    'an empty time zone: nothing written'
);

set local role authenticated;

select throws_ok(
    $$select public.create_workspace('North Clinic', 'north-clinic', null)$$,
    'PT400',
    'invalid_timezone',
    'a null time zone: invalid_timezone'
);

reset role;

select results_eq(
    'select * from written',
    'select * from written_before',
    'a null time zone: nothing written'
);

set local role authenticated;

select throws_ok(
    $$select public.create_workspace('', 'x', 'Nowhere')$$,
    'PT400',
    'invalid_name',
    'several bad fields (the name is checked first): invalid_name'
);

reset role;

select results_eq(
    'select * from written',
    'select * from written_before',
    'several bad fields (the name is checked first): nothing written'
);

set local role authenticated;

select is(
    pg_temp.caught($$select public.create_workspace('North Clinic', ' Taken-Slug ', 'UTC')$$),
    jsonb_build_object(
        'sqlstate', 'PT409',
        'message', 'slug_taken',
        'detail', 'The slug "taken-slug" is taken.'
    ),
    'slug_taken names the normalized slug in its detail'
);

select is(
    pg_temp.caught($$select public.create_workspace('North Clinic', 'no', 'UTC')$$) ->> 'detail',
    'A slug has 3 to 63 lowercase letters, digits or inner hyphens (for example "north-clinic").',
    'validation errors carry the registered description'
);

reset role;

select * from finish();
rollback;
