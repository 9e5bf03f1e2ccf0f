begin;
select plan(17);

select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select tests.create_user('22222222-2222-2222-2222-222222222222', 'staff@example.test', 'Sam Staff');
select tests.create_user('33333333-3333-3333-3333-333333333333', 'south@example.test', 'Sol South');
select tests.create_workspace(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'north-clinic', '11111111-1111-1111-1111-111111111111', 'North Clinic'
);
select tests.create_workspace(
    'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb', 'south-salon', '33333333-3333-3333-3333-333333333333'
);
select tests.add_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '22222222-2222-2222-2222-222222222222');
insert into public.inventory_items (id, workspace_id, name, unit, quantity, low_stock_threshold) values
('e0000000-0000-0000-0000-000000000001', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'Gloves', 'boxes', 2, 5);

select is((private.check_low_stock() ->> 'raised')::int, 1, 'the hourly check raises the low-stock alert');

create temp view written as
select
    (
        select i.quantity from public.inventory_items as i
        where i.id = 'e0000000-0000-0000-0000-000000000001')
        as quantity,
    (select count(*)::int from public.inventory_movements) as movements,
    (
        select count(*)::int from public.alerts
        where resolved_at is null
    ) as open_alerts;
create temp table written_before as select * from written;

select tests.authenticate_as('22222222-2222-2222-2222-222222222222');
select throws_ok(
    $$select public.adjust_stock('e0000000-0000-0000-0000-000000000001', -3, 'Dropped a box')$$,
    'PT409', 'insufficient_stock', 'taking out more than there is: insufficient_stock'
);
select throws_ok(
    $$select public.adjust_stock('e0000000-0000-0000-0000-000000000001', 0, 'Nothing')$$,
    'PT400', 'invalid_stock_delta', 'a zero change: invalid_stock_delta'
);
select throws_ok(
    $$select public.adjust_stock('e0000000-0000-0000-0000-000000000001', null, 'Nothing')$$,
    'PT400', 'invalid_stock_delta', 'no change: invalid_stock_delta'
);
select throws_ok(
    $$select public.adjust_stock('e0000000-0000-0000-0000-000000000001', 1000000000, 'Too many')$$,
    'PT400', 'invalid_quantity', 'above the largest quantity: invalid_quantity'
);
select throws_ok(
    $$select public.adjust_stock('e0000000-0000-0000-0000-000000000001', 1, '  ')$$,
    'PT400', 'invalid_reason', 'a blank reason: invalid_reason'
);
select throws_ok(
    $$select public.adjust_stock('e0000000-0000-0000-0000-000000000001', 1, null)$$,
    'PT400', 'invalid_reason', 'no reason: invalid_reason'
);
select tests.clear_authentication();
select tests.authenticate_as('33333333-3333-3333-3333-333333333333');
select throws_ok(
    $$select public.adjust_stock('e0000000-0000-0000-0000-000000000001', 1, 'Found one')$$,
    'PT404', 'not_found', 'a member of another workspace: not_found'
);
select tests.clear_authentication();
select tests.authenticate_without_user();
select throws_ok(
    $$select public.adjust_stock('e0000000-0000-0000-0000-000000000001', 1, 'Found one')$$,
    'PT401', 'not_authenticated', 'no signed-in user: not_authenticated'
);
select tests.clear_authentication();
select results_eq('select * from written', 'select * from written_before', 'the refusals changed nothing');

-- A refill above the threshold: movement with the reason; the next check resolves the alert.
select tests.authenticate_as('22222222-2222-2222-2222-222222222222');
select is(
    (select quantity from public.adjust_stock('e0000000-0000-0000-0000-000000000001', 10, E' Delivery\nfrom Acme ')),
    12::numeric,
    'staff add a delivery'
);
select tests.clear_authentication();
select results_eq(
    $$select kind, delta, quantity_after, reason, created_by from public.inventory_movements$$,
    $$
        values (
            'adjustment', 10::numeric, 12::numeric, E'Delivery\nfrom Acme', '22222222-2222-2222-2222-222222222222'::uuid
        )
    $$,
    'the adjustment is kept with its trimmed reason and who made it'
);
select is((private.check_low_stock() ->> 'resolved')::int, 1, 'the low-stock check after the refill resolves it');
select results_eq(
    $$select resolved_at, resolved_by from public.alerts where kind = 'low_stock'$$,
    $$values (now(), null::uuid)$$,
    'by the system, kept as history'
);

-- A stock count written directly is history too; going low again waits for the hourly check.
select tests.authenticate_as('22222222-2222-2222-2222-222222222222');
update public.inventory_items set quantity = 4
where id = 'e0000000-0000-0000-0000-000000000001';
select tests.clear_authentication();
select results_eq(
    $$select kind, delta, quantity_after, reason from public.inventory_movements order by created_at, kind$$,
    $$
        values
        ('adjustment', 10::numeric, 12::numeric, E'Delivery\nfrom Acme'),
        ('count', -8::numeric, 4::numeric, null)
    $$,
    'a direct stock count leaves a count movement'
);
select is((private.check_low_stock() ->> 'raised')::int, 1, 'low again: the hourly check raises a new alert');

select is((
    select count(*)::int from public.alerts
    where kind = 'low_stock'
), 2, 'both alerts stay as history');

select * from finish();
rollback;
