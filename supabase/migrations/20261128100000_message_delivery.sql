-- Message delivery by the worker: a claim with the worker's own time-out, alerts for malformed
-- jobs, requeueing failed messages, and delivery figures for /metrics.
--
-- The worker's deliver_message handler (worker/handlers/messages.py) per job:
--   1. private.claim_message_delivery(id, timeout): queued -> sending (attempts + 1), or a
--      sending row whose claim is older than the time-out (its worker died) taken over;
--      otherwise the row's state, so the job is archived (final) or comes back later;
--   2. sends through the channel's providers with the message's idempotency key;
--   3. private.record_delivery (sent | failed | queued to retry) and the job's archive or
--      pgmq.set_vt, in one transaction.

-- Alerts about the system rather than a workspace (a job that can never be processed): no
-- workspace, so no member sees them; service_role (operators, /metrics) does.
alter table public.alerts drop constraint alerts_kind_check;
alter table public.alerts add constraint alerts_kind_check
check (kind in ('form_overdue', 'low_stock', 'message_failed', 'email_bounced', 'malformed_job'));
alter table public.alerts alter column workspace_id drop not null;
alter table public.alerts add constraint alerts_only_system_alerts_have_no_workspace
check ((workspace_id is null) = (kind = 'malformed_job'));

comment on column public.alerts.kind is
'form_overdue (subject: a form submission), low_stock (an inventory item), message_failed (a message), malformed_job (a queue job; no workspace).';
comment on column public.alerts.workspace_id is
'The workspace it concerns; null only for system alerts (malformed_job), which members never see.';

-- One open system alert per kind and subject (the other unique index skips null workspaces).
create unique index alerts_one_open_system_alert_per_subject
on public.alerts (kind, subject_type, subject_id) where (workspace_id is null and resolved_at is null);

create function private.raise_malformed_job_alert(p_queue text, p_msg_id bigint, p_job_kind text, p_error text)
returns uuid
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    -- The same job always maps to the same subject, so raising twice (a crash before the
    -- archive) keeps one alert.
    v_subject_id uuid := pg_catalog.md5(p_queue || ':' || p_msg_id::text)::uuid;
    v_text text := left(
        pg_catalog.btrim(
            pg_catalog.regexp_replace(
                format(
                    'Job %s on queue %s (%s) can never be processed and was archived: %s',
                    p_msg_id, p_queue, coalesce(p_job_kind, 'no kind'), coalesce(p_error, 'malformed')
                ),
                U&'[\0001-\001F\007F-\009F\2028\2029\202A-\202E\2066-\2069]+',
                ' ',
                'g'
            )
        ),
        500
    );
    v_alert_id uuid;
begin
    v_text := pg_catalog.rtrim(v_text);
    insert into public.alerts (workspace_id, kind, severity, subject_type, subject_id, text)
    values (null, 'malformed_job', 'critical', 'job', v_subject_id, v_text)
    on conflict (kind, subject_type, subject_id) where (workspace_id is null and resolved_at is null) do nothing
    returning id into v_alert_id;
    if v_alert_id is null then
        select a.id into v_alert_id
        from public.alerts as a
        where
            a.workspace_id is null
            and a.kind = 'malformed_job'
            and a.subject_type = 'job'
            and a.subject_id = v_subject_id
            and a.resolved_at is null;
    end if;
    return v_alert_id;
end
$$;

comment on function private.raise_malformed_job_alert(text, bigint, text, text) is
'Worker: opens a critical malformed_job system alert (no workspace) for a job it archives unprocessed; once per queue and job id. Returns the open alert''s id.';

-- The claim, with the worker's time-out and the row's state when there is nothing to claim.
create function private.claim_message_delivery(p_message_id uuid, p_claim_timeout interval)
returns table (
    claimed boolean,
    status text,
    retry_in_seconds integer,
    message_id uuid,
    workspace_id uuid,
    channel text,
    recipient text,
    subject text,
    body text,
    attempts integer,
    idempotency_key text,
    sender_name text,
    sender_email text,
    reply_to_email text,
    sms_from_number text
)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_message public.messages;
begin
    -- As private.claim_message: a message about a booking cancelled since it was queued is not
    -- sent (the cancellation notice itself is); it becomes skipped and the job is archived.
    update public.messages as m
    set status = 'skipped', skip_reason = 'booking_cancelled'
    from public.bookings as b
    where
        m.id = p_message_id
        and m.status = 'queued'
        and b.id = m.booking_id
        and b.status = 'cancelled'
        and m.template_kind is distinct from 'booking_cancelled';
    update public.messages as m
    set status = 'sending', attempts = m.attempts + 1, claimed_at = now()
    where
        m.id = p_message_id
        and m.direction = 'outbound'
        and (m.status = 'queued' or (m.status = 'sending' and m.claimed_at <= now() - p_claim_timeout))
    returning m.* into v_message;
    if found then
        return query
        select
            true, v_message.status, null::integer, v_message.id, v_message.workspace_id, v_message.channel,
            v_message.recipient, v_message.subject, v_message.body, v_message.attempts,
            v_message.idempotency_key,
            coalesce(s.sender_name, w.name), s.sender_email, coalesce(s.reply_to_email, s.sender_email),
            s.sms_from_number
        from public.workspaces as w
        left join public.communication_settings as s on w.id = s.workspace_id
        where w.id = v_message.workspace_id;
        return;
    end if;
    -- Nothing claimed: gone (no row), final (archive the job) or being sent by another worker
    -- (come back when that claim times out).
    return query
    select
        false, m.status,
        case
            when m.status = 'sending'
                then greatest(1, ceil(extract(epoch from m.claimed_at + p_claim_timeout - now()))::integer)
        end,
        m.id, m.workspace_id, m.channel, null::text, null::text, null::text, m.attempts, m.idempotency_key,
        null::text, null::text, null::text, null::text
    from public.messages as m
    where m.id = p_message_id;
end
$$;

comment on function private.claim_message_delivery(uuid, interval) is
'Worker: moves an outbound queued message to sending (attempts + 1), or takes over a sending one claimed longer than p_claim_timeout ago, and returns what to send (claimed true). A queued message whose booking was cancelled since becomes skipped (booking_cancelled), as in private.claim_message. Otherwise returns the row''s status with claimed false (and, while another worker''s claim is live, retry_in_seconds until it times out); no row when the message is gone.';

-- Owners (and service_role) requeue failed messages.
create function public.retry_failed_messages(p_workspace_id uuid, p_message_ids uuid[] default null)
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_requeued uuid[];
begin
    if (select auth.role()) is distinct from 'service_role' then
        perform private.require_role(p_workspace_id, 'owner');
    elsif not exists (select 1 from public.workspaces as w where w.id = p_workspace_id) then
        perform private.raise_error('not_found', 'No such workspace.');
    end if;

    with requeued as (
        update public.messages as m
        set status = 'queued', attempts = 0, claimed_at = null, failed_at = null
        where
            m.workspace_id = p_workspace_id
            and m.direction = 'outbound'
            and m.status = 'failed'
            and (p_message_ids is null or m.id = any(p_message_ids))
        returning m.id
    )

    select coalesce(array_agg(r.id order by r.id), '{}') into v_requeued from requeued as r;

    perform private.enqueue_jobs(
        'deliver_message',
        array(select pg_catalog.jsonb_build_object('message_id', r.id) from unnest(v_requeued) as r (id))
    );
    update public.alerts as a
    set resolved_at = now(), resolved_by = (select auth.uid())
    where
        a.workspace_id = p_workspace_id
        and a.kind = 'message_failed'
        and a.subject_type = 'message'
        and a.subject_id = any(v_requeued)
        and a.resolved_at is null;
    return pg_catalog.cardinality(v_requeued);
end
$$;

comment on function public.retry_failed_messages(uuid, uuid[]) is
'Owners and service_role: puts failed outbound messages of the workspace (all, or those of p_message_ids) back on the queue with their attempts reset, and resolves their message_failed alerts. Ids that are not failed messages of the workspace are ignored. Returns how many were requeued. Errors: not_authenticated, not_found, forbidden.';

revoke execute on function
private.raise_malformed_job_alert(text, bigint, text, text),
private.claim_message_delivery(uuid, interval),
public.retry_failed_messages(uuid, uuid[])
from public, anon, authenticated;
grant execute on function
private.raise_malformed_job_alert(text, bigint, text, text),
private.claim_message_delivery(uuid, interval)
to service_role;
grant execute on function public.retry_failed_messages(uuid, uuid[]) to authenticated, service_role;

-- The figures /metrics shows: messages by status and provider, retries, open alerts. No index
-- for them on purpose: one on status would make every claim and record a non-HOT update
-- (about 20 % of the delivery rate, bench/worker_throughput.py); edge_api caches the snapshot.

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
    -- Business families (bookings, forms, messages today): 20261128090000_business_metrics.sql.
    return v_families || private.business_metric_families(pg_catalog.now());
end
$$;

comment on function private.metrics_snapshot() is
'Database metrics as Prometheus gauge families [{name, help, samples: [{labels, value}]}]: pgmq queue depth and oldest message age, pg_cron jobs'' state and last run, outbound messages by status/provider/channel, delivery retries, open alerts by kind, and '
'private.business_metric_families (bookings created, forms completed, messages sent today). service_role only.';
