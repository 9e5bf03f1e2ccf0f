begin;
select plan(22);

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
insert into public.booking_types (id, workspace_id, name, duration_minutes)
values ('b0000000-0000-0000-0000-000000000001', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'Massage', 30);
insert into public.inventory_items (id, workspace_id, name, unit, quantity, low_stock_threshold, active) values
('e0000000-0000-0000-0000-000000000001', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'Oil', 'ml', 100, 20, true),
('e0000000-0000-0000-0000-000000000002', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'Towels', 'units', 3, 0, true),
('e0000000-0000-0000-0000-000000000003', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'Old cream', 'jars', 0, 0, false);
insert into public.booking_type_inventory_usage (workspace_id, booking_type_id, item_id, quantity_per_booking) values
(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa',
    'b0000000-0000-0000-0000-000000000001',
    'e0000000-0000-0000-0000-000000000001',
    30
),
(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa',
    'b0000000-0000-0000-0000-000000000001',
    'e0000000-0000-0000-0000-000000000002',
    2
),
(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa',
    'b0000000-0000-0000-0000-000000000001',
    'e0000000-0000-0000-0000-000000000003',
    1
);
insert into public.contacts (id, workspace_id, name, email)
values ('c0000000-0000-0000-0000-00000000000a', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'Ann Lee', 'ann@example.test');

create function pg_temp.book(p_id text, p_starts_in interval)
returns void
language sql
as $$
    insert into public.bookings (id, workspace_id, booking_type_id, practitioner_id, contact_id, starts_at, ends_at)
    values (
        p_id::uuid, 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'b0000000-0000-0000-0000-000000000001',
        (select p.id from public.practitioners as p where p.workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'),
        'c0000000-0000-0000-0000-00000000000a', now() + p_starts_in, now() + p_starts_in + interval '30 minutes'
    );
$$;
select pg_temp.book('b1000000-0000-0000-0000-000000000001', '-3 hours');
select pg_temp.book('b1000000-0000-0000-0000-000000000002', '-2 hours');
select pg_temp.book('b1000000-0000-0000-0000-000000000003', '-10 minutes');
select pg_temp.book('b1000000-0000-0000-0000-000000000004', '2 hours');
select pg_temp.book('b1000000-0000-0000-0000-000000000005', '-5 hours');
update public.bookings set status = 'cancelled', cancelled_at = now()
where id = 'b1000000-0000-0000-0000-000000000005';

create temp view stock as
select
    i.id,
    i.quantity
from public.inventory_items as i
order by i.id;
create temp view written as
select
    (select array_agg(s.quantity order by s.id) from stock as s) as quantities,
    (select count(*)::int from public.inventory_movements) as movements,
    (select array_agg(b.status order by b.id) from public.bookings as b) as statuses;

-- Staff complete a started booking: the usage of each active item is taken from stock.
select tests.authenticate_as('22222222-2222-2222-2222-222222222222');
select results_eq(
    $$select status, closed_at, closed_by from public.complete_booking('b1000000-0000-0000-0000-000000000001')$$,
    $$values ('completed', now(), '22222222-2222-2222-2222-222222222222'::uuid)$$,
    'complete_booking closes the booking, with who and when'
);
select tests.clear_authentication();
select results_eq(
    'select quantity from stock',
    $$values (70::numeric), (1::numeric), (0::numeric)$$,
    'oil and towels are drawn; the inactive item is left alone'
);
select results_eq(
    $$
        select item_id, kind, delta, quantity_after, booking_id, created_by
        from public.inventory_movements order by item_id
    $$,
    $$
        values
        (
            'e0000000-0000-0000-0000-000000000001'::uuid, 'booking_usage', -30::numeric, 70::numeric,
            'b1000000-0000-0000-0000-000000000001'::uuid, '22222222-2222-2222-2222-222222222222'::uuid
        ),
        (
            'e0000000-0000-0000-0000-000000000002'::uuid, 'booking_usage', -2::numeric, 1::numeric,
            'b1000000-0000-0000-0000-000000000001'::uuid, '22222222-2222-2222-2222-222222222222'::uuid
        )
    $$,
    'each draw is a movement with the booking and the member'
);

-- Not enough towels for the second: a code, and nothing changes (not even the oil).
create temp table written_before as select * from written;
select tests.authenticate_as('22222222-2222-2222-2222-222222222222');
select throws_ok(
    $$select public.complete_booking('b1000000-0000-0000-0000-000000000002')$$,
    'PT409', 'insufficient_stock', 'a completion that would take stock below zero: insufficient_stock'
);
select tests.clear_authentication();
select results_eq('select * from written', 'select * from written_before', 'and nothing changed');

-- Refused states, each writing nothing.
select tests.authenticate_as('22222222-2222-2222-2222-222222222222');
select throws_ok(
    $$select public.complete_booking('b1000000-0000-0000-0000-000000000001')$$,
    'PT409', 'booking_closed', 'completing a completed booking: booking_closed'
);
select throws_ok(
    $$select public.mark_no_show('b1000000-0000-0000-0000-000000000001')$$,
    'PT409', 'booking_closed', 'marking a completed booking no-show: booking_closed'
);
select throws_ok(
    $$select public.complete_booking('b1000000-0000-0000-0000-000000000004')$$,
    'PT409', 'booking_not_started', 'completing a booking that has not started: booking_not_started'
);
select throws_ok(
    $$select public.mark_no_show('b1000000-0000-0000-0000-000000000004')$$,
    'PT409', 'booking_not_started', 'no-show before the start: booking_not_started'
);
select throws_ok(
    $$select public.complete_booking('b1000000-0000-0000-0000-000000000005')$$,
    'PT409', 'booking_cancelled', 'completing a cancelled booking: booking_cancelled'
);
select throws_ok(
    $$select public.complete_booking('cccccccc-cccc-cccc-cccc-cccccccccccc')$$,
    'PT404', 'not_found', 'an unknown booking: not_found'
);
select tests.clear_authentication();
select tests.authenticate_as('33333333-3333-3333-3333-333333333333');
select throws_ok(
    $$select public.complete_booking('b1000000-0000-0000-0000-000000000003')$$,
    'PT404', 'not_found', 'a member of another workspace: not_found'
);
select throws_ok(
    $$select public.mark_no_show('b1000000-0000-0000-0000-000000000003')$$,
    'PT404', 'not_found', 'no-show from another workspace: not_found'
);
select tests.clear_authentication();
select tests.authenticate_without_user();
select throws_ok(
    $$select public.mark_no_show('b1000000-0000-0000-0000-000000000003')$$,
    'PT401', 'not_authenticated', 'no signed-in user: not_authenticated'
);
select tests.clear_authentication();
select tests.authenticate_as_anon();
select throws_ok(
    $$select public.complete_booking('b1000000-0000-0000-0000-000000000003')$$,
    '42501', null, 'anon may not call complete_booking'
);
select tests.clear_authentication();
select results_eq('select * from written', 'select * from written_before', 'the refusals changed nothing');

-- No-show: closed, no stock used.
select tests.authenticate_as('11111111-1111-1111-1111-111111111111');
select results_eq(
    $$select status, closed_by from public.mark_no_show('b1000000-0000-0000-0000-000000000003')$$,
    $$values ('no_show', '11111111-1111-1111-1111-111111111111'::uuid)$$,
    'the owner marks a started booking no-show'
);
select tests.clear_authentication();
select results_eq(
    'select quantity from stock', 'select quantity from written_before, unnest(quantities) as quantity',
    'a no-show uses no stock'
);

-- After a refill, the second completion goes through.
select tests.authenticate_as('22222222-2222-2222-2222-222222222222');
select public.adjust_stock('e0000000-0000-0000-0000-000000000002', 5, 'Laundry came back');
select is(
    (select status from public.complete_booking('b1000000-0000-0000-0000-000000000002')),
    'completed',
    'after a refill the completion succeeds'
);
select tests.clear_authentication();
select results_eq(
    'select quantity from stock',
    $$values (40::numeric), (4::numeric), (0::numeric)$$,
    'and draws its usage'
);

-- Direct writes of status stay impossible for members.
select tests.authenticate_as('11111111-1111-1111-1111-111111111111');
select throws_ok(
    $$update public.bookings set status = 'completed' where id = 'b1000000-0000-0000-0000-000000000004'$$,
    '42501', null, 'members cannot write a booking''s status directly'
);
select tests.clear_authentication();
select is(
    (
        select status from public.bookings
        where id = 'b1000000-0000-0000-0000-000000000004'
    ),
    'confirmed',
    'the future booking is still confirmed'
);

select * from finish();
rollback;
