-- Business metrics for GET /metrics: bookings created, forms completed and messages sent
-- today (the UTC day, platform-wide), as Prometheus gauge families.
--
-- They live in their own function, private.business_metric_families(p_at), which
-- private.metrics_snapshot() appends to its families: the rest of metrics_snapshot is
-- unchanged from 20261127100200_metrics_snapshot.sql, so other families (messages by status
-- and provider, retries) can be added there without touching these. Each count is a range
-- scan of an index on the day's timestamps, whatever the size of the tables.

create index bookings_created_at_idx on public.bookings (created_at);
create index form_submissions_completed_at_idx on public.form_submissions (completed_at)
where (completed_at is not null);
create index messages_sent_at_idx on public.messages (sent_at) where (sent_at is not null);

create function private.business_metric_families(p_at timestamptz)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    v_day_start timestamptz;
    v_day_end timestamptz;
    v_bookings bigint;
    v_forms bigint;
    v_messages jsonb;
begin
    select d.starts_at, d.ends_at into v_day_start, v_day_end from private.local_day('UTC', p_at) as d;
    select count(*) into v_bookings
    from public.bookings as b
    where b.created_at >= v_day_start and b.created_at < v_day_end;
    select count(*) into v_forms
    from public.form_submissions as f
    where f.completed_at >= v_day_start and f.completed_at < v_day_end;
    -- One sample per channel, 0 included, so a rate never starts from a missing series.
    select pg_catalog.jsonb_agg(
        pg_catalog.jsonb_build_object('labels', pg_catalog.jsonb_build_object('channel', c.channel), 'value', (
            select count(*)
            from public.messages as m
            where m.sent_at >= v_day_start and m.sent_at < v_day_end and m.channel = c.channel
        ))
        order by c.channel
    )
    into v_messages
    from (values ('email'), ('sms')) as c (channel);
    return pg_catalog.jsonb_build_array(
        pg_catalog.jsonb_build_object(
            'name', 'careops_bookings_created_today',
            'help', 'Bookings created since midnight UTC, all workspaces, any status.',
            'samples', pg_catalog.jsonb_build_array(
                pg_catalog.jsonb_build_object('labels', '{}'::jsonb, 'value', v_bookings)
            )
        ),
        pg_catalog.jsonb_build_object(
            'name', 'careops_forms_completed_today',
            'help', 'Intake form submissions completed since midnight UTC, all workspaces.',
            'samples', pg_catalog.jsonb_build_array(
                pg_catalog.jsonb_build_object('labels', '{}'::jsonb, 'value', v_forms)
            )
        ),
        pg_catalog.jsonb_build_object(
            'name', 'careops_messages_sent_today',
            'help', 'Messages handed to a provider since midnight UTC (sent_at), all workspaces, by channel.',
            'samples', v_messages
        )
    );
end
$$;

comment on function private.business_metric_families(timestamptz) is
'Prometheus gauge families of the UTC day containing p_at: bookings created, forms completed, messages sent by '
'channel. Part of private.metrics_snapshot(); service_role only.';

revoke execute on function private.business_metric_families(timestamptz) from public, anon, authenticated;
grant execute on function private.business_metric_families(timestamptz) to service_role;

create or replace function private.metrics_snapshot()
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

    -- Outbound messages grouped once (a scan of messages per snapshot).
    outbound as (
        select
            m.status,
            coalesce(m.provider, 'none') as provider,
            m.channel,
            count(*) as messages,
            coalesce(sum(greatest(m.attempts - 1, 0)), 0) as retries
        from public.messages as m
        where m.direction = 'outbound'
        group by m.status, coalesce(m.provider, 'none'), m.channel
    ),

    open_alerts as (
        select a.kind, count(*) as alerts
        from public.alerts as a
        where a.resolved_at is null
        group by a.kind
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
        (5, 'careops_cron_job_last_run_age_seconds', 'Seconds since the last finished run of the pg_cron job ended.'),
        (
            6, 'careops_messages',
            'Outbound messages by status, provider (none before one delivered it) and channel.'
        ),
        (
            7, 'careops_message_delivery_retries',
            'Delivery attempts beyond the first, summed over outbound messages, by status and channel.'
        ),
        (8, 'careops_open_alerts', 'Open alerts by kind (malformed_job: system alerts without a workspace).')
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
        union all
        select
            'careops_messages',
            pg_catalog.jsonb_build_object('status', o.status, 'provider', o.provider, 'channel', o.channel),
            o.messages::numeric
        from outbound as o
        union all
        select
            'careops_message_delivery_retries',
            pg_catalog.jsonb_build_object('status', o.status, 'channel', o.channel),
            sum(o.retries)::numeric
        from outbound as o
        group by o.status, o.channel
        union all
        select 'careops_open_alerts', pg_catalog.jsonb_build_object('kind', a.kind), a.alerts::numeric
        from open_alerts as a
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
    -- Business families (bookings, forms, messages today): private.business_metric_families.
    return v_families || private.business_metric_families(pg_catalog.now());
end
$$;

comment on function private.metrics_snapshot() is
'Database metrics as Prometheus gauge families [{name, help, samples: [{labels, value}]}]: pgmq queue depth and '
'oldest message age, pg_cron jobs'' state and last run, and private.business_metric_families (bookings created, '
'forms completed, messages sent today). service_role only.';
