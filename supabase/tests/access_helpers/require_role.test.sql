begin;
create extension if not exists pgtap with schema extensions;
select plan(10);

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
    private.require_role('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'owner'),
    '11111111-1111-1111-1111-111111111111'::uuid,
    'an owner passes and gets their user id'
);

select is(
    private.require_role('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'staff'),
    '11111111-1111-1111-1111-111111111111'::uuid,
    'an owner passes a staff check'
);

select throws_ok(
    $$select private.require_role('bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb', 'staff')$$,
    'PT404',
    'not_found',
    'a workspace the caller is not in is not_found'
);

select is(
    pg_temp.caught($$select private.require_role('bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb', 'owner')$$),
    jsonb_build_object(
        'sqlstate', 'PT404',
        'message', 'not_found',
        'detail', 'No such workspace, or you are not a member of it.'
    ),
    'not_found says so in its detail'
);

select throws_ok(
    $$select private.require_role('cccccccc-cccc-cccc-cccc-cccccccccccc', 'staff')$$,
    'PT404',
    'not_found',
    'a workspace that does not exist is not_found'
);

select set_config(
    'request.jwt.claims', '{"sub": "22222222-2222-2222-2222-222222222222", "role": "authenticated"}', true
);

select is(
    private.require_role('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'staff'),
    '22222222-2222-2222-2222-222222222222'::uuid,
    'staff pass a staff check'
);

select throws_ok(
    $$select private.require_role('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'owner')$$,
    'PT403',
    'forbidden',
    'staff fail an owner check with forbidden'
);

select is(
    pg_temp.caught($$select private.require_role('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'owner')$$),
    jsonb_build_object(
        'sqlstate', 'PT403',
        'message', 'forbidden',
        'detail', 'This needs the owner role in the workspace.'
    ),
    'forbidden names the role needed'
);

select set_config(
    'request.jwt.claims', '{"sub": "44444444-4444-4444-4444-444444444444", "role": "authenticated"}', true
);

select throws_ok(
    $$select private.require_role('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'staff')$$,
    'PT404',
    'not_found',
    'a user without workspaces gets not_found'
);

select set_config('request.jwt.claims', '', true);

select throws_ok(
    $$select private.require_role('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'staff')$$,
    'PT401',
    'not_authenticated',
    'no signed-in user gets not_authenticated'
);

reset role;

select * from finish();
rollback;
