-- careops_cron_job_failed_runs_last_hour counts a job's failed runs of the last hour (and 0 for
-- a job without any), so an alert can fire on it; older failures and other statuses do not count.
begin;
select plan(3);

select cron.schedule('careops-failing-probe', '0 0 1 1 *', 'select 1 / 0');
select cron.schedule('careops-quiet-probe', '0 0 1 1 *', 'select 1');

-- Run ids of our own: postgres may not use cron.runid_seq (as on hosted).
insert into cron.job_run_details (
    jobid, runid, job_pid, database, username, command, status, return_message, start_time, end_time
)
select
    j.jobid,
    -1000 + r.n as runid,
    r.n as job_pid,
    'postgres' as database,  -- noqa: RF04
    current_user as username,
    'select 1 / 0' as command,
    r.status,
    'division by zero' as return_message,
    now() - r.ago as start_time,
    now() - r.ago + interval '1 second' as end_time
from cron.job as j
cross join
    lateral (
        values
        (1, 'failed', interval '5 minutes'),
        (2, 'failed', interval '50 minutes'),
        (3, 'failed', interval '2 hours'),
        (4, 'succeeded', interval '1 minute')
    ) as r (n, status, ago)
where j.jobname = 'careops-failing-probe';

select tests.authenticate_as_service_role();

create temp table failed_runs as
select
    s #>> '{labels,job}' as job,
    (s ->> 'value')::numeric as runs
from jsonb_array_elements(private.metrics_snapshot()) as f,
    jsonb_array_elements(f -> 'samples') as s
where f ->> 'name' = 'careops_cron_job_failed_runs_last_hour';

select is(
    (
        select r.runs from failed_runs as r
        where r.job = 'careops-failing-probe'
    ),
    2::numeric,
    'the two failed runs of the last hour count; the older one and the success do not'
);

select is(
    (
        select r.runs from failed_runs as r
        where r.job = 'careops-quiet-probe'
    ),
    0::numeric,
    'a job without failures reads 0 (the series exists for the alert)'
);

select is(
    (
        select (s ->> 'value')::numeric
        from jsonb_array_elements(private.metrics_snapshot()) as f,
            jsonb_array_elements(f -> 'samples') as s
        where f ->> 'name' = 'careops_cron_job_last_run_success' and s #>> '{labels,job}' = 'careops-failing-probe'
    ),
    1::numeric,
    'the last finished run (the newest runid here) still decides last_run_success'
);

select * from finish();
rollback;
