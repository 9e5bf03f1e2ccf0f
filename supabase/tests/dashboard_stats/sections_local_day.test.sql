begin;
select plan(9);

-- North Clinic (Pacific/Auckland, NZDT = UTC+13 in November): Olive owns it and takes bookings,
-- Sam works there. South Salon is Sol's. The instant is 2026-11-25 11:30 UTC, which is
-- 2026-11-26 00:30 in Auckland: the local day is [2026-11-25 11:00Z, 2026-11-26 11:00Z).
select tests.create_user('11111111-1111-1111-1111-111111111111', 'olive@example.test', 'Olive Owner');
select tests.create_user('22222222-2222-2222-2222-222222222222', 'sam@example.test', 'Sam Staff');
select tests.create_user('33333333-3333-3333-3333-333333333333', 'sol@example.test', 'Sol South');
select tests.create_workspace(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'north-clinic', '11111111-1111-1111-1111-111111111111',
    'North Clinic', 'Pacific/Auckland'
);
select tests.create_workspace(
    'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb', 'south-salon', '33333333-3333-3333-3333-333333333333',
    'South Salon', 'Pacific/Honolulu'
);
select tests.add_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '22222222-2222-2222-2222-222222222222');

insert into public.booking_types (id, workspace_id, name, duration_minutes)
values ('b0000000-0000-0000-0000-000000000001', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'Massage', 30);
insert into public.contacts (id, workspace_id, name, email, created_at) values
(
    'c0000000-0000-0000-0000-00000000000a', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'Ann Lee', 'ann@example.test',
    '2026-11-25 11:00+00'
),
(
    'c0000000-0000-0000-0000-00000000000b', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'Bo Kim', 'bo@example.test',
    '2026-11-10 00:00+00'
),
(
    'c0000000-0000-0000-0000-00000000000c', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'Cy Old', 'cy@example.test',
    '2026-09-01 00:00+00'
);

insert into public.bookings (
    workspace_id, booking_type_id, practitioner_id, contact_id, starts_at, ends_at, status, cancelled_at
)
select
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa' as workspace_id,
    'b0000000-0000-0000-0000-000000000001' as booking_type_id,
    p.id as practitioner_id,
    'c0000000-0000-0000-0000-00000000000a' as contact_id,
    b.starts_at,
    b.starts_at + interval '30 minutes' as ends_at,
    b.status,
    case when b.status = 'cancelled' then b.starts_at end as cancelled_at
from public.practitioners as p,
    (
        values
        ('2026-11-25 10:30+00'::timestamptz, 'confirmed'),  -- 25th 23:30 local: yesterday
        ('2026-11-25 11:00+00', 'confirmed'),               -- 26th 00:00: today
        ('2026-11-26 10:30+00', 'confirmed'),               -- 26th 23:30: today
        ('2026-11-26 01:00+00', 'cancelled'),               -- today, but cancelled
        ('2026-11-26 11:00+00', 'confirmed'),               -- 27th 00:00: the next 7 days
        ('2026-12-03 10:30+00', 'confirmed'),               -- 3 Dec 23:30: the 7th day after today
        ('2026-12-03 11:00+00', 'confirmed'),               -- 4 Dec 00:00: beyond
        ('2026-11-20 02:00+00', 'completed'),
        ('2026-11-21 02:00+00', 'no_show'),
        ('2026-11-22 02:00+00', 'cancelled'),
        ('2026-10-20 02:00+00', 'completed')                -- over 30 days ago
    ) as b (starts_at, status)
where p.workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa';

-- The triggers opened conversations; set their state: Ann wrote twice and nobody read it,
-- Bo's conversation is quiet since August, Cy's has no message.
insert into public.conversations (workspace_id, contact_id)
select
    c.workspace_id,
    c.id
from public.contacts as c
where c.workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'
on conflict do nothing;
update public.conversations set last_message_at = null, unread_count = 0
where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa';
update public.conversations set last_message_at = '2026-11-25 09:00+00', unread_count = 2
where contact_id = 'c0000000-0000-0000-0000-00000000000a';
update public.conversations set last_message_at = '2026-08-25 09:00+00'
where contact_id = 'c0000000-0000-0000-0000-00000000000b';

insert into public.inventory_items (workspace_id, name, unit, quantity, low_stock_threshold, active) values
('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'Gloves', 'pairs', 3, 10, true),
('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'Oil', 'ml', 0, 0, true),
('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'Towels', 'units', 50, 10, true),
('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'Old wax', 'units', 0, 5, false),
('bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb', 'Shampoo', 'ml', 0, 5, true);

insert into public.alerts (workspace_id, kind, subject_type, subject_id, text, created_at, resolved_at) values
(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'low_stock', 'inventory_item', gen_random_uuid(), 'Gloves are low',
    '2026-11-25 08:00+00', null
),
(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'form_overdue', 'form_submission', gen_random_uuid(), 'Form overdue',
    '2026-11-25 09:00+00', null
),
(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'low_stock', 'inventory_item', gen_random_uuid(), 'Oil is low',
    '2026-11-24 09:00+00', '2026-11-24 10:00+00'
),
(
    'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb', 'low_stock', 'inventory_item', gen_random_uuid(), 'Shampoo is low',
    '2026-11-25 10:00+00', null
);

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

create temp table north as
select private.dashboard_stats_at('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '2026-11-25 11:30+00') as s;

select is(
    (select s -> 'workspace' ->> 'today_local' from north),
    '2026-11-26',
    'today is the 26th in Auckland while it is still the 25th in UTC'
);

select is(
    (select (s -> 'bookings') - 'today_by_practitioner' from north),
    '{"today": 2, "next_7_days": 2, "last_30_days": {"completed": 1, "no_show": 1, "cancelled": 1}}'::jsonb,
    'bookings: today and the next 7 local days (not cancelled), outcomes of the last 30 days'
);

select is(
    (select s #> '{bookings,today_by_practitioner}' from north),
    jsonb_build_array(jsonb_build_object(
        'practitioner_id', (
            select p.id from public.practitioners as p
            where p.workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'
        ),
        'full_name', 'Olive Owner',
        'bookings', 2
    )),
    'today per practitioner'
);

select is(
    (select s -> 'leads' from north),
    '{"new_contacts_7_days": 1, "new_contacts_30_days": 2, "open_conversations": 1,
      "unread_conversations": 1, "unread_messages": 2}'::jsonb,
    'leads: new contacts, conversations with recent messages, unread'
);

select is(
    (select (s -> 'inventory') - 'low_stock' from north),
    '{"items": 3, "low_stock_count": 2}'::jsonb,
    'inventory: active items, low ones (inactive items and other workspaces do not count)'
);

select is(
    (
        select array_agg(l.item ->> 'name' order by l.position)
        from north as x
        cross join lateral jsonb_array_elements(x.s #> '{inventory,low_stock}') with ordinality as l (item, position)
    ),
    array['Oil', 'Gloves'],
    'the emptiest first (nothing left of a zero threshold before 3 of 10)'
);

select is(
    (
        select
            jsonb_build_object(
                'open', x.s #> '{alerts,open}',
                'by_kind', x.s #> '{alerts,open_by_kind}',
                'newest', (
                    select jsonb_agg(a.alert ->> 'text')
                    from jsonb_array_elements(x.s #> '{alerts,newest}') as a (alert)
                )
            )
        from north as x
    ),
    '{"open": 2, "by_kind": {"low_stock": 1, "form_overdue": 1}, "newest": ["Form overdue", "Gloves are low"]}'::jsonb,
    'alerts: open ones by kind, newest first, resolved and other workspaces'' left out'
);

select tests.authenticate_as('22222222-2222-2222-2222-222222222222');

select is(
    private.dashboard_stats_at('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '2026-11-25 11:30+00') - 'invitations',
    (select s - 'invitations' from north),
    'staff see the same sections as the owner'
);

select tests.authenticate_as('33333333-3333-3333-3333-333333333333');

select is(
    tests.caught(
        $$select private.dashboard_stats_at('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '2026-11-25 11:30+00')$$
    ) ->> 'message',
    'not_found',
    'the owner of another workspace gets not_found'
);

select * from finish();
rollback;
