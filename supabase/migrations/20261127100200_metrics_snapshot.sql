-- Metrics from the database for edge_api's GET /metrics, in one cheap call.
--
-- private.metrics_snapshot() returns a list of Prometheus gauge families:
--   [{"name": "careops_…", "help": "…", "samples": [{"labels": {…}, "value": n}, …]}, …]
-- edge_api turns each family into a gauge as it is, so a new database metric is
-- one more family here (create or replace), with no Python change. Planned:
-- messages by status and provider, deliveries retried, bookings created today.
-- Definer because service_role reads neither pgmq's tables nor cron's; only
-- service_role may call it (edge_api switches to it for this call).

create function private.metrics_snapshot()
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    v_families jsonb;
begin
    with
    queues as (
        -- pgmq.metrics counts each queue's table: cheap while queues are drained.
        select q.queue_name, q.queue_length, coalesce(q.oldest_msg_age_sec, 0) as oldest_age
        from pgmq.metrics_all() as q
    ),

    jobs as (
        select
            coalesce(j.jobname::text, 'job-' || j.jobid::text) as job,
            j.active,
            last_run.status,
            last_run.finished_at
        from cron.job as j
        left join lateral (
            -- The newest finished run; walks job_run_details backwards by runid.
            select d.status, coalesce(d.end_time, d.start_time) as finished_at
            from cron.job_run_details as d
            where d.jobid = j.jobid and d.status in ('succeeded', 'failed')
            order by d.runid desc
            limit 1
        ) as last_run on true
    ),

    -- Every family, listed even when it has no sample (so its HELP is always there).
    families (position, name, help) as (
        values
        (1, 'careops_queue_depth', 'Messages in the pgmq queue, visible or not.'),
        (2, 'careops_queue_oldest_message_age_seconds', 'Age of the oldest message in the pgmq queue (0 when empty).'),
        (3, 'careops_cron_job_active', 'Whether the pg_cron job is scheduled (1) or paused (0).'),
        (
            4, 'careops_cron_job_last_run_success',
            'Whether the last finished run of the pg_cron job succeeded (1) or failed (0).'
        ),
        (5, 'careops_cron_job_last_run_age_seconds', 'Seconds since the last finished run of the pg_cron job ended.')
        -- Families of later issues go here and in samples below: messages by status
        -- and provider, deliveries retried, bookings created today.
    ),

    samples (name, labels, value) as (
        select 'careops_queue_depth', pg_catalog.jsonb_build_object('queue', q.queue_name), q.queue_length::numeric
        from queues as q
        union all
        select
            'careops_queue_oldest_message_age_seconds',
            pg_catalog.jsonb_build_object('queue', q.queue_name),
            q.oldest_age::numeric
        from queues as q
        union all
        select
            'careops_cron_job_active',
            pg_catalog.jsonb_build_object('job', j.job),
            case when j.active then 1 else 0 end
        from jobs as j
        union all
        select
            'careops_cron_job_last_run_success',
            pg_catalog.jsonb_build_object('job', j.job),
            case when j.status = 'succeeded' then 1 else 0 end
        from jobs as j
        where j.status is not null
        union all
        select
            'careops_cron_job_last_run_age_seconds',
            pg_catalog.jsonb_build_object('job', j.job),
            round(extract(epoch from pg_catalog.clock_timestamp() - j.finished_at), 3)
        from jobs as j
        where j.finished_at is not null
    )

    select pg_catalog.jsonb_agg(
        pg_catalog.jsonb_build_object(
            'name', f.name,
            'help', f.help,
            'samples', coalesce(
                (
                    select pg_catalog.jsonb_agg(
                        pg_catalog.jsonb_build_object('labels', s.labels, 'value', s.value) order by s.labels::text
                    )
                    from samples as s
                    where s.name = f.name
                ),
                '[]'
            )
        )
        order by f.position
    )
    into v_families
    from families as f;
    return v_families;
end
$$;

comment on function private.metrics_snapshot() is
'Database metrics as Prometheus gauge families [{name, help, samples: [{labels, value}]}]: pgmq queue depth and oldest message age, pg_cron jobs'' state and last run. service_role only.';

revoke execute on function private.metrics_snapshot() from public, anon, authenticated;
grant execute on function private.metrics_snapshot() to service_role;
