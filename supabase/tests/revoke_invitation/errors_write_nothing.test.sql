begin;
create extension if not exists pgtap with schema extensions;
select plan(17);

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

-- North Clinic: Olive owns it, Sam works there; one open and one accepted invitation.
-- South Salon: Sol owns it; one open invitation.
insert into auth.users (id, email, raw_user_meta_data) values
('11111111-1111-1111-1111-111111111111', 'owner@example.test', '{"full_name": "Olive Owner"}'),
('22222222-2222-2222-2222-222222222222', 'staff@example.test', '{"full_name": "Sam Staff"}'),
('33333333-3333-3333-3333-333333333333', 'south@example.test', '{"full_name": "Sol South"}'),
('55555555-5555-5555-5555-555555555555', 'partner@example.test', '{"full_name": "Pat Partner"}');

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
('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '55555555-5555-5555-5555-555555555555', 'staff'),
('bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb', '33333333-3333-3333-3333-333333333333', 'owner');

insert into public.invitations (
    id, workspace_id, email, role, token_hash, invited_by, expires_at, accepted_at, accepted_by
) values
(
    'dddddddd-dddd-dddd-dddd-dddddddddd01', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'invitee@example.test', 'staff',
    private.token_hash('open-token'), '11111111-1111-1111-1111-111111111111', now() + interval '7 days', null, null
),
(
    'dddddddd-dddd-dddd-dddd-dddddddddd02', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'partner@example.test', 'staff',
    private.token_hash('used-token'), '11111111-1111-1111-1111-111111111111', now() + interval '7 days',
    now(), '55555555-5555-5555-5555-555555555555'
),
(
    'dddddddd-dddd-dddd-dddd-dddddddddd03', 'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb', 'invitee@example.test', 'staff',
    private.token_hash('south-token'), '33333333-3333-3333-3333-333333333333', now() + interval '7 days', null, null
);

-- What revoke_invitation could have written: revocations.
create temp view written as
select count(*)::int as revoked from public.invitations as i
where
    i.workspace_id in ('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb')
    and i.revoked_at is not null;

create temp table written_before as select * from written;

select results_eq(
    'select * from written_before',
    $$values (0)$$,
    'before: nothing revoked'
);

select set_config('request.jwt.claims', '', true);

set local role authenticated;

select throws_ok(
    $$select public.revoke_invitation('dddddddd-dddd-dddd-dddd-dddddddddd01')$$,
    'PT401',
    'not_authenticated',
    'no signed-in user: not_authenticated'
);

reset role;

select results_eq(
    'select * from written',
    'select * from written_before',
    'no signed-in user: nothing revoked'
);

select set_config(
    'request.jwt.claims', '{"sub": "22222222-2222-2222-2222-222222222222", "role": "authenticated"}', true
);

set local role authenticated;

select throws_ok(
    $$select public.revoke_invitation('dddddddd-dddd-dddd-dddd-dddddddddd01')$$,
    'PT403',
    'forbidden',
    'a staff member: forbidden'
);

reset role;

select results_eq(
    'select * from written',
    'select * from written_before',
    'a staff member: nothing revoked'
);

select set_config(
    'request.jwt.claims', '{"sub": "33333333-3333-3333-3333-333333333333", "role": "authenticated"}', true
);

set local role authenticated;

select throws_ok(
    $$select public.revoke_invitation('dddddddd-dddd-dddd-dddd-dddddddddd01')$$,
    'PT404',
    'not_found',
    'an owner of another workspace: not_found'
);

reset role;

select results_eq(
    'select * from written',
    'select * from written_before',
    'an owner of another workspace: nothing revoked'
);

select set_config(
    'request.jwt.claims', '{"sub": "11111111-1111-1111-1111-111111111111", "role": "authenticated"}', true
);

set local role authenticated;

select throws_ok(
    $$select public.revoke_invitation('dddddddd-dddd-dddd-dddd-dddddddddd03')$$,
    'PT404',
    'not_found',
    'an invitation of a workspace the caller is not in: not_found'
);

reset role;

select results_eq(
    'select * from written',
    'select * from written_before',
    'an invitation of a workspace the caller is not in: nothing revoked'
);

set local role authenticated;

select throws_ok(
    $$select public.revoke_invitation('cccccccc-cccc-cccc-cccc-cccccccccccc')$$,
    'PT404',
    'not_found',
    'an invitation that does not exist: not_found'
);

reset role;

select results_eq(
    'select * from written',
    'select * from written_before',
    'an invitation that does not exist: nothing revoked'
);

set local role authenticated;

select throws_ok(
    $$select public.revoke_invitation(null)$$,
    'PT404',
    'not_found',
    'a null id: not_found'
);

reset role;

select results_eq(
    'select * from written',
    'select * from written_before',
    'a null id: nothing revoked'
);

set local role authenticated;

select throws_ok(
    $$select public.revoke_invitation('dddddddd-dddd-dddd-dddd-dddddddddd02')$$,
    'PT409',
    'invitation_used',
    'an accepted invitation: invitation_used'
);

reset role;

select results_eq(
    'select * from written',
    'select * from written_before',
    'an accepted invitation: nothing revoked'
);

set local role authenticated;

select is(
    pg_temp.caught($$select public.revoke_invitation('dddddddd-dddd-dddd-dddd-dddddddddd03')$$),
    jsonb_build_object(
        'sqlstate', 'PT404',
        'message', 'not_found',
        'detail', 'No such invitation in your workspaces.'
    ),
    'not_found does not tell an invitation elsewhere from no invitation'
);

reset role;

select results_eq(
    $$
        select accepted_at, accepted_by, revoked_at from public.invitations
        where id = 'dddddddd-dddd-dddd-dddd-dddddddddd02'
    $$,
    $$values (now(), '55555555-5555-5555-5555-555555555555'::uuid, null::timestamptz)$$,
    'the accepted invitation stays accepted'
);

select * from finish();
rollback;
