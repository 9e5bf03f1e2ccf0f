begin;
select plan(6);

-- Rows on 2031-03-04 (UTC) and just around it; the instant asked about is that day's noon.
select tests.create_user('11111111-1111-1111-1111-111111111111', 'olive@example.test', 'Olive Owner');
select tests.create_workspace(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'north-clinic', '11111111-1111-1111-1111-111111111111',
    'North Clinic', 'Pacific/Auckland'
);
insert into public.booking_types (id, workspace_id, name, duration_minutes)
values ('b0000000-0000-0000-0000-000000000001', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'Massage', 30);
insert into public.contacts (id, workspace_id, name, email)
values ('c0000000-0000-0000-0000-00000000000a', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'Ann Lee', 'ann@example.test');
insert into public.intake_forms (id, workspace_id, name, fields) values (
    'f0000000-0000-0000-0000-000000000001', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'Consent',
    '[{"key": "ok", "type": "checkbox", "label": "OK"}]'
);

insert into public.bookings (
    id, workspace_id, booking_type_id, practitioner_id, contact_id, starts_at, ends_at, status, created_at
)
select
    b.id,
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa' as workspace_id,
    'b0000000-0000-0000-0000-000000000001' as booking_type_id,
    p.id as practitioner_id,
    'c0000000-0000-0000-0000-00000000000a' as contact_id,
    '2031-06-01 00:00+00'::timestamptz + b.n * interval '1 hour' as starts_at,
    '2031-06-01 00:30+00'::timestamptz + b.n * interval '1 hour' as ends_at,
    'completed' as status,
    b.created_at
from public.practitioners as p,
    (
        values
        ('b1000000-0000-0000-0000-000000000001'::uuid, 1, '2031-03-03 23:59:59+00'::timestamptz),
        ('b1000000-0000-0000-0000-000000000002', 2, '2031-03-04 00:00:00+00'),
        ('b1000000-0000-0000-0000-000000000003', 3, '2031-03-04 23:59:59+00'),
        ('b1000000-0000-0000-0000-000000000004', 4, '2031-03-05 00:00:00+00')
    ) as b (id, n, created_at)
where p.workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa';

insert into public.form_submissions (
    workspace_id, form_id, booking_id, contact_id, token_hash, status, completed_at, answers
)
select
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa' as workspace_id,
    'f0000000-0000-0000-0000-000000000001' as form_id,
    b.id as booking_id,
    'c0000000-0000-0000-0000-00000000000a' as contact_id,
    private.token_hash(b.id::text) as token_hash,
    'completed' as status,
    b.created_at as completed_at,
    '{"ok": true}' as answers
from public.bookings as b
where b.id in ('b1000000-0000-0000-0000-000000000002', 'b1000000-0000-0000-0000-000000000004');

insert into public.messages (
    workspace_id, recipient_user_id, direction, channel, kind, body, recipient, status, idempotency_key, sent_at
) values
(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '11111111-1111-1111-1111-111111111111', 'outbound', 'email',
    'automated', 'Hello', 'olive@example.test', 'sent', 'probe-1', '2031-03-04 01:00+00'
),
(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '11111111-1111-1111-1111-111111111111', 'outbound', 'email',
    'automated', 'Hello', 'olive@example.test', 'delivered', 'probe-2', '2031-03-04 02:00+00'
),
(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '11111111-1111-1111-1111-111111111111', 'outbound', 'sms',
    'automated', 'Hello', '+64211234567', 'sent', 'probe-3', '2031-03-03 23:00+00'
),
(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '11111111-1111-1111-1111-111111111111', 'outbound', 'sms',
    'automated', 'Hello', '+64211234567', 'queued', 'probe-4', null
);

select tests.authenticate_as_service_role();

create temp table day_families as
select
    f ->> 'name' as name,
    f -> 'samples' as samples
from jsonb_array_elements(private.business_metric_families('2031-03-04 12:00+00')) as f;

select is(
    (
        select samples from day_families
        where name = 'careops_bookings_created_today'
    ),
    '[{"labels": {}, "value": 2}]'::jsonb,
    'bookings created in the UTC day: its first and last second, not the neighbours'
);

select is(
    (
        select samples from day_families
        where name = 'careops_forms_completed_today'
    ),
    '[{"labels": {}, "value": 1}]'::jsonb,
    'forms completed in the UTC day'
);

select is(
    (
        select samples from day_families
        where name = 'careops_messages_sent_today'
    ),
    '[{"labels": {"channel": "email"}, "value": 2}, {"labels": {"channel": "sms"}, "value": 0}]'::jsonb,
    'messages sent in the day by channel, 0 included; unsent and yesterday''s left out'
);

select is(
    (
        select array_agg(f ->> 'name' order by f ->> 'name')
        from jsonb_array_elements(private.metrics_snapshot()) as f
        where f ->> 'name' in (
            'careops_bookings_created_today', 'careops_forms_completed_today', 'careops_messages_sent_today'
        )
    ),
    array['careops_bookings_created_today', 'careops_forms_completed_today', 'careops_messages_sent_today'],
    'metrics_snapshot carries the business families'
);

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');
select is(
    tests.caught($$select private.business_metric_families(now())$$) ->> 'sqlstate',
    '42501',
    'authenticated users may not read it'
);

select tests.authenticate_as_anon();
select is(
    tests.caught($$select private.business_metric_families(now())$$) ->> 'sqlstate',
    '42501',
    'anon may not read it'
);

select * from finish();
rollback;
