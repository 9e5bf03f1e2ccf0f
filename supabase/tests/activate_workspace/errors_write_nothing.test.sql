begin;
select plan(10);

select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select tests.create_user('22222222-2222-2222-2222-222222222222', 'staff@example.test', 'Stan Staff');
select tests.create_user('33333333-3333-3333-3333-333333333333', 'out@example.test', 'Otto Outsider');
select
    tests.create_workspace(
        'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'north-clinic', '11111111-1111-1111-1111-111111111111'
    );
select tests.add_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '22222222-2222-2222-2222-222222222222');
update public.communication_settings set sender_email = 'desk@north.test';
insert into public.booking_types (workspace_id, name, duration_minutes)
values ('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'Check-up', 30);
insert into public.booking_type_practitioners (workspace_id, booking_type_id, practitioner_id)
select
    bt.workspace_id,
    bt.id as booking_type_id,
    p.id as practitioner_id
from public.booking_types as bt
inner join public.practitioners as p on bt.workspace_id = p.workspace_id;
insert into public.availability_rules (workspace_id, practitioner_id, weekday, start_time, end_time)
select
    workspace_id,
    id as practitioner_id,
    2 as weekday,  -- noqa: RF04
    '09:00' as start_time,
    '17:00' as end_time
from public.practitioners;

create temp table before as select w.* from public.workspaces as w;

select tests.authenticate_without_user();
select throws_ok(
    $$select public.activate_workspace('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa')$$,
    'PT401', 'not_authenticated', 'no user: not_authenticated'
);
select tests.authenticate_as('33333333-3333-3333-3333-333333333333');
select throws_ok(
    $$select public.activate_workspace('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa')$$,
    'PT404', 'not_found', 'an outsider: not_found'
);
select throws_ok(
    $$select public.workspace_activation_status('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa')$$,
    'PT404', 'not_found', 'an outsider reads no checklist: not_found'
);
select throws_ok(
    $$select public.activate_workspace('99999999-9999-9999-9999-999999999999')$$,
    'PT404', 'not_found', 'an unknown workspace: not_found'
);
select tests.authenticate_as('22222222-2222-2222-2222-222222222222');
select throws_ok(
    $$select public.activate_workspace('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa')$$,
    'PT403', 'forbidden', 'staff: forbidden'
);
select throws_ok(
    $$select public.suspend_workspace('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa')$$,
    'PT403', 'forbidden', 'staff cannot suspend: forbidden'
);
select is(
    (public.workspace_activation_status('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa') ->> 'ready')::boolean,
    true,
    'staff read the checklist'
);
select throws_ok(
    $$update public.workspaces set status = 'active'$$,
    '42501', null, 'nobody sets the status directly'
);
select tests.authenticate_as('11111111-1111-1111-1111-111111111111');
select throws_ok(
    $$update public.workspaces set status = 'active'$$,
    '42501', null, 'not even an owner'
);
select tests.clear_authentication();

select results_eq('select * from public.workspaces', 'select * from before', 'nothing changed');

select * from finish();
rollback;
