begin;
select plan(6);

-- Archived jobs 10 days, 8 days and 1 hour old; cron runs 30 days and 1 day old.
insert into pgmq.a_jobs (msg_id, enqueued_at, archived_at, vt, message) values
(-1, now() - interval '10 days', now() - interval '10 days', now(), '{"kind": "old"}'),
(-2, now() - interval '8 days', now() - interval '8 days', now(), '{"kind": "old"}'),
(-3, now() - interval '1 hour', now() - interval '1 hour', now(), '{"kind": "recent"}');
insert into cron.job_run_details (jobid, runid, status, start_time, end_time) values
(null, -1, 'succeeded', now() - interval '30 days', now() - interval '30 days'),
(null, -2, 'succeeded', now() - interval '1 day', now() - interval '1 day');

select is(
    private.prune_queue_archive(),
    '{"archived_jobs": 2, "cron_runs": 1}'::jsonb,
    'prunes what is older than 7 days and says how much'
);

select results_eq(
    'select msg_id from pgmq.a_jobs where msg_id < 0',
    $$values (-3::bigint)$$,
    'the recent archived job stays'
);

select results_eq(
    'select runid from cron.job_run_details where runid < 0',
    $$values (-2::bigint)$$,
    'the recent cron run stays'
);

select is(
    private.prune_queue_archive(),
    '{"archived_jobs": 0, "cron_runs": 0}'::jsonb,
    'a second run in a row prunes nothing more'
);

select is(
    private.prune_queue_archive(interval '30 minutes' + interval '30 minutes'),
    '{"archived_jobs": 0, "cron_runs": 1}'::jsonb,
    'a shorter retention prunes more'
);

select throws_ok(
    $$select private.prune_queue_archive(interval '1 minute')$$,
    '22023',
    null,
    'a retention under one hour is refused'
);

select * from finish();
rollback;
