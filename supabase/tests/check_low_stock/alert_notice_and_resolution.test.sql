begin;
select plan(9);

select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select tests.create_user('22222222-2222-2222-2222-222222222222', 'staff@example.test', 'Sam Staff');
select tests.create_user('33333333-3333-3333-3333-333333333333', 'partner@example.test', 'Pat Partner');
select tests.create_workspace(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'north-clinic', '11111111-1111-1111-1111-111111111111', 'North Clinic'
);
select tests.add_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '22222222-2222-2222-2222-222222222222');
select tests.add_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '33333333-3333-3333-3333-333333333333', 'owner');
-- Gloves are low (3 <= 5), masks exactly at the threshold, oil fine, paper low but inactive.
insert into public.inventory_items (id, workspace_id, name, unit, quantity, low_stock_threshold, active) values
('e0000000-0000-0000-0000-000000000001', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'Gloves', 'boxes', 3, 5, true),
('e0000000-0000-0000-0000-000000000002', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'Masks', 'units', 10, 10, true),
('e0000000-0000-0000-0000-000000000003', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'Oil', 'ml', 500, 100, true),
('e0000000-0000-0000-0000-000000000004', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'Paper', 'rolls', 0, 2, false);
delete from pgmq.q_jobs;

select is(private.check_low_stock(), '{"raised": 2, "resolved": 0}'::jsonb, 'two items at or below their threshold');

select results_eq(
    $$
        select a.subject_id, a.text from public.alerts as a
        where a.kind = 'low_stock' and a.resolved_at is null order by a.subject_id
    $$,
    $$
        values
        ('e0000000-0000-0000-0000-000000000001'::uuid, 'Gloves is low: 3 boxes left (threshold 5).'),
        ('e0000000-0000-0000-0000-000000000002'::uuid, 'Masks is low: 10 units left (threshold 10).')
    $$,
    'one open alert per low item'
);

select results_eq(
    $$
        select m.recipient, m.subject, m.status from public.messages as m
        where m.template_kind = 'low_stock' order by m.subject, m.recipient
    $$,
    $$
        values
        ('owner@example.test', 'Low stock: Gloves', 'queued'),
        ('partner@example.test', 'Low stock: Gloves', 'queued'),
        ('owner@example.test', 'Low stock: Masks', 'queued'),
        ('partner@example.test', 'Low stock: Masks', 'queued')
    $$,
    'each owner (not staff) gets one email notice per item'
);

select ok(
    (select bool_and(m.conversation_id is null and m.recipient_user_id is not null) from public.messages as m),
    'notices to members belong to no contact''s conversation'
);

select is((select count(*)::int from pgmq.q_jobs), 4, 'one delivery job per notice');

select is(private.check_low_stock(), '{"raised": 0, "resolved": 0}'::jsonb, 'a second run changes nothing');
select is((select count(*)::int from public.messages), 4, 'and sends no second notice');

update public.inventory_items set quantity = 6
where id = 'e0000000-0000-0000-0000-000000000001';

select is(private.check_low_stock(), '{"raised": 0, "resolved": 1}'::jsonb, 'refilled above the threshold');

select results_eq(
    $$
        select a.resolved_at, a.resolved_by from public.alerts as a
        where a.subject_id = 'e0000000-0000-0000-0000-000000000001'
    $$,
    $$values (now(), null::uuid)$$,
    'the gloves alert resolved itself'
);

select * from finish();
rollback;
