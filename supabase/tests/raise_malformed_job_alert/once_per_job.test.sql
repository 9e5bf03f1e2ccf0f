begin;
select plan(5);

select ok(
    private.raise_malformed_job_alert('jobs', 42, 'deliver_message', e'bad\npayload') is not null,
    'a malformed job opens an alert'
);
select is(
    private.raise_malformed_job_alert('jobs', 42, 'deliver_message', 'again'),
    (
        select id from public.alerts
        where kind = 'malformed_job'
    ),
    'the same job again: the same open alert'
);
select results_eq(
    $$select workspace_id, severity, subject_type, text from public.alerts where kind = 'malformed_job'$$,
    $$
        values (
            null::uuid, 'critical', 'job',
            'Job 42 on queue jobs (deliver_message) can never be processed and was archived: bad payload'
        )
    $$,
    'a system alert without a workspace; control characters flattened'
);
select is(
    tests.caught($$insert into public.alerts (workspace_id, kind, subject_type, subject_id, text)
        values (null, 'low_stock', 'inventory_item', gen_random_uuid(), 'No workspace')$$) ->> 'sqlstate',
    '23514',
    'only system alerts have no workspace'
);
select ok(
    private.raise_malformed_job_alert('jobs', 43, null, repeat('x', 900)) is not null,
    'a long error is cut to the alert''s 500 characters'
);

select * from finish();
rollback;
