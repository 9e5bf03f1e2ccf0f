begin;
select plan(6);

select tests.authenticate_as_service_role();

-- The jobs queue's sample, by its label: the events queue has a sample in the same family.
create temp table before_snapshot as
select (s ->> 'value')::numeric as queue_depth
from jsonb_array_elements(private.metrics_snapshot()) as f,
    jsonb_array_elements(f -> 'samples') as s
where f ->> 'name' = 'careops_queue_depth' and s #>> '{labels,queue}' = 'jobs';

select tests.clear_authentication();
select private.enqueue_job('metrics_probe', '{"n": 1}');
select private.enqueue_job('metrics_probe', '{"n": 2}');
select cron.schedule('careops-metrics-probe', '0 0 1 1 *', 'select 1');

select tests.authenticate_as_service_role();

select is(
    (
        select (s ->> 'value')::numeric
        from jsonb_array_elements(private.metrics_snapshot()) as f,
            jsonb_array_elements(f -> 'samples') as s
        where f ->> 'name' = 'careops_queue_depth' and s #>> '{labels,queue}' = 'jobs'
    ),
    (select b.queue_depth + 2 from before_snapshot as b),
    'the jobs queue depth counts two more queued jobs'
);

select ok(
    (
        select bool_and(f ? 'name' and f ? 'help' and jsonb_typeof(f -> 'samples') = 'array')
        from jsonb_array_elements(private.metrics_snapshot()) as f
    ),
    'every family has a name, a help text and samples'
);

select ok(
    (
        select bool_and(f ->> 'name' ~ '^careops_[a-z0-9_]+$')
        from jsonb_array_elements(private.metrics_snapshot()) as f
    ),
    'every family is named careops_*'
);

select is(
    (
        select s -> 'value'
        from jsonb_array_elements(private.metrics_snapshot()) as f,
            jsonb_array_elements(f -> 'samples') as s
        where f ->> 'name' = 'careops_cron_job_active' and s #>> '{labels,job}' = 'careops-metrics-probe'
    ),
    '1'::jsonb,
    'a scheduled cron job reads as active'
);

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');
select is(
    tests.caught('select private.metrics_snapshot()') ->> 'sqlstate',
    '42501',
    'authenticated users may not read it'
);

select tests.authenticate_as_anon();
select is(
    tests.caught('select private.metrics_snapshot()') ->> 'sqlstate',
    '42501',
    'anon may not read it'
);

select * from finish();
rollback;
