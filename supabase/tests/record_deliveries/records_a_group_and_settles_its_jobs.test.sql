begin;
select plan(11);

select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select tests.create_workspace(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'north-clinic', '11111111-1111-1111-1111-111111111111', 'North Clinic'
);
insert into public.contacts (id, workspace_id, name, email) values
('c0000000-0000-0000-0000-00000000000a', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'Ann Lee', 'ann@example.test');

select pgmq.create('tap_record_deliveries');

-- Four messages, claimed together, each with a job on the queue.
create temp table batch as
select
    k.key,
    private.queue_message('c0000000-0000-0000-0000-00000000000a', 'welcome', 'email', '{}', k.key) as message_id
from (values ('sent'), ('failed'), ('retry'), ('released')) as k (key);
alter table batch add column job_id bigint;
update batch as b set job_id = (
    select s.id
    from pgmq.send('tap_record_deliveries', pg_catalog.jsonb_build_object('message_id', b.message_id)) as s (id)
);
select count(*) from private.claim_message_deliveries((select array_agg(b.message_id) from batch as b), '1 minute');

create temp table outcomes as
select
    pg_catalog.jsonb_agg(
        pg_catalog.jsonb_build_object(
            'job_id', b.job_id,
            'message_id', b.message_id,
            'status', case b.key when 'retry' then 'queued' else b.key end,
            'provider', case when b.key in ('sent', 'failed') then 'resend' end,
            'provider_message_id', case when b.key = 'sent' then 're_1' end,
            'error', case when b.key in ('failed', 'retry') then 'resend: ' || b.key end,
            'retry_in_seconds', case b.key when 'retry' then 30 when 'released' then 0 end
        )
    ) as outcomes_json
from batch as b;

-- A malformed outcome writes nothing.
select is(
    tests.caught(
        format(
            $$select private.record_deliveries('tap_record_deliveries', %L::jsonb)$$,
            (
                select
                    o.outcomes_json
                    || '[{"job_id": 1, "message_id": "00000000-0000-0000-0000-000000000000", "status": "bogus"}]'
                from outcomes as o
            )
        )
    ) ->> 'sqlstate',
    '22023',
    'an unknown status is refused'
);
select is(
    tests.caught($$select private.record_deliveries('tap_record_deliveries', '{"status": "sent"}')$$) ->> 'sqlstate',
    '22023',
    'outcomes that are not an array are refused'
);
select is(
    tests.caught(
        format(
            $$select private.record_deliveries('tap_record_deliveries', %L::jsonb)$$,
            (
                select pg_catalog.jsonb_agg(e.value - 'retry_in_seconds')
                from outcomes as o, pg_catalog.jsonb_array_elements(o.outcomes_json) as e (value)
                where e.value ->> 'status' = 'queued'
            )
        )
    ) ->> 'sqlstate',
    '22023',
    'a retry without its delay is refused'
);
select is(
    (
        select count(*)::integer
        from public.messages as m
        where
            m.id in (select b.message_id from batch as b)
            and m.status = 'sending'
    ),
    4,
    'after a refused group every message is still sending'
);

select results_eq(
    $$
        select r.status, count(*)::integer
        from private.record_deliveries('tap_record_deliveries', (select o.outcomes_json from outcomes as o)) as r
        group by r.status order by r.status
    $$,
    $$values ('failed', 1), ('queued', 2), ('sent', 1)$$,
    'one call records the group and returns what moved'
);

select results_eq(
    $$
        select b.key, m.status, m.attempts, m.provider, m.provider_message_id, m.last_error,
            m.sent_at is not null, m.failed_at is not null, m.claimed_at is not null
        from batch as b inner join public.messages as m on b.message_id = m.id
        order by b.key
    $$,
    $$
        values
        ('failed', 'failed', 1, 'resend', null::text, 'resend: failed', false, true, true),
        ('released', 'queued', 0, null::text, null::text, null::text, false, false, false),
        ('retry', 'queued', 1, null::text, null::text, 'resend: retry', false, false, true),
        ('sent', 'sent', 1, 'resend', 're_1', null::text, true, false, true)
    $$,
    'sent, failed, queued to retry (error kept) and released (the claim undone) as record_delivery would'
);

select results_eq(
    $$
        select a.kind, a.severity from public.alerts as a
        where a.subject_id in (select b.message_id from batch as b)
    $$,
    $$values ('message_failed', 'critical')$$,
    'the failed message raises its alert'
);

select results_eq(
    $$
        select b.key from batch as b
        where b.job_id in (select a.msg_id from pgmq.a_tap_record_deliveries as a)
        order by b.key
    $$,
    $$values ('failed'), ('sent')$$,
    'the jobs with a final outcome are archived in the same transaction'
);

select results_eq(
    $$
        select b.key, q.vt > pg_catalog.clock_timestamp() + interval '25 seconds',
            q.vt <= pg_catalog.clock_timestamp()
        from batch as b inner join pgmq.q_tap_record_deliveries as q on b.job_id = q.msg_id
        order by b.key
    $$,
    $$values ('released', false, true), ('retry', true, false)$$,
    'the retry''s job is hidden for its backoff, the released one is visible at once'
);

select is_empty(
    $$select * from private.record_deliveries('tap_record_deliveries', (select o.outcomes_json from outcomes as o))$$,
    'recording the group again moves nothing (only messages being sent move) and does not fail'
);

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');
select is(
    tests.caught($$select private.record_deliveries('tap_record_deliveries', '[]')$$) ->> 'sqlstate',
    '42501',
    'members may not call it'
);
select tests.clear_authentication();

select * from finish();
rollback;
