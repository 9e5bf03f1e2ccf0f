-- Message delivery per read batch: one statement claims every claimable row of a pgmq.read
-- batch, one statement records a group of outcomes and archives (or delays) their jobs.
--
-- The worker's deliver_message handler (worker/handlers/messages.py) used one
-- claim_message_delivery call and one record_delivery + pgmq.archive statement per message:
-- four statements and two plpgsql calls per message. Now, per read batch:
--   1. private.claim_message_deliveries(ids, timeout): the claim of private.claim_message_delivery
--      for every id at once (committed before any send, as before);
--   2. each message is sent on its own thread, as before;
--   3. private.record_deliveries(queue, outcomes): the outcomes that are ready (group commit
--      across the worker's jobs in flight) recorded as record_delivery does, and their jobs
--      archived (sent, failed) or made visible again later (queued to retry, released) in the
--      same transaction.
-- The single-message functions stay (tests, the inbox, requeue paths call record_delivery).

create function private.claim_message_deliveries(p_message_ids uuid[], p_claim_timeout interval)
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
begin
    -- As private.claim_message_delivery: a message about a booking cancelled since it was queued
    -- is not sent (the cancellation notice itself is); it becomes skipped and its job archived.
    update public.messages as m
    set status = 'skipped', skip_reason = 'booking_cancelled'
    from public.bookings as b
    where
        m.id = any(p_message_ids)
        and m.status = 'queued'
        and b.id = m.booking_id
        and b.status = 'cancelled'
        and m.template_kind is distinct from 'booking_cancelled';
    -- One update with the status in its where: a row another worker claims at the same moment
    -- is re-checked after its lock is released and not taken (two workers never both win).
    return query
    with claimed as (
        update public.messages as m
        set status = 'sending', attempts = m.attempts + 1, claimed_at = now()
        where
            m.id = any(p_message_ids)
            and m.direction = 'outbound'
            and (m.status = 'queued' or (m.status = 'sending' and m.claimed_at <= now() - p_claim_timeout))
        returning m.*
    )

    select
        true, c.status, null::integer, c.id, c.workspace_id, c.channel, c.recipient, c.subject, c.body,
        c.attempts, c.idempotency_key,
        coalesce(s.sender_name, w.name), s.sender_email, coalesce(s.reply_to_email, s.sender_email),
        s.sms_from_number
    from claimed as c
    inner join public.workspaces as w on c.workspace_id = w.id
    left join public.communication_settings as s on c.workspace_id = s.workspace_id;
    -- The rest, in a new snapshot (so a row claimed by another worker meanwhile shows sending):
    -- final (archive the job), being sent by another worker (come back when that claim times
    -- out), or no row at all (gone). Rows claimed above carry claimed_at = now() of this
    -- transaction.
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
    where
        m.id = any(p_message_ids)
        and not (m.status = 'sending' and m.claimed_at = now());
end
$$;

comment on function private.claim_message_deliveries(uuid[], interval) is
'Worker, per pgmq read batch: private.claim_message_delivery for many messages in one statement. Every outbound queued message of p_message_ids (or sending one claimed longer than p_claim_timeout ago) moves to sending (attempts + 1, claimed_at = now()) and comes back with what to send (claimed true); a queued one whose booking was cancelled since becomes skipped (booking_cancelled). Every other existing message comes back with its status and claimed false (while another worker''s claim is live, retry_in_seconds until it times out); a message that is gone has no row.';

create function private.record_deliveries(p_queue text, p_outcomes jsonb)
returns table (message_id uuid, status text)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_bad text;
    v_ids uuid[];
    v_statuses text[];
    v_delayed record;
begin
    if pg_catalog.jsonb_typeof(p_outcomes) is distinct from 'array' then
        raise exception 'delivery outcomes are a json array, not %', coalesce(pg_catalog.jsonb_typeof(p_outcomes), 'null')
        using errcode = '22023';
    end if;
    select pg_catalog.format('%s', o) into v_bad
    from pg_catalog.jsonb_to_recordset(p_outcomes) as o (
        job_id bigint, message_id uuid, status text, retry_in_seconds integer
    )
    where
        o.job_id is null
        or o.message_id is null
        or o.status is null
        or o.status not in ('sent', 'failed', 'queued', 'released')
        or (o.status in ('queued', 'released') and o.retry_in_seconds is null)
    limit 1;
    if v_bad is not null then
        raise exception 'a delivery outcome has a job_id, a message_id, a status (sent, failed, queued or released) and, when queued or released, retry_in_seconds: %', v_bad
        using errcode = '22023';
    end if;

    -- The outcomes, as private.record_delivery records one: only a message being sent moves
    -- (sending -> sent | failed | queued); released (shutdown before the send) undoes the claim.
    -- A message that is gone or no longer sending is left as it is; its job is still archived.
    with
    outcomes as (
        select distinct on (o.message_id) o.*
        from pg_catalog.jsonb_to_recordset(p_outcomes) as o (
            job_id bigint, message_id uuid, status text, provider text, provider_message_id text, error text
        )
        order by o.message_id
    ),

    recorded as (
        update public.messages as m
        set
            status = case when o.status = 'released' then 'queued' else o.status end,
            attempts = case when o.status = 'released' then greatest(m.attempts - 1, 0) else m.attempts end,
            claimed_at = case when o.status = 'released' then null else m.claimed_at end,
            provider = coalesce(o.provider, m.provider),
            provider_message_id = coalesce(o.provider_message_id, m.provider_message_id),
            last_error = case when o.error is null then m.last_error else left(o.error, 2000) end,
            sent_at = case when o.status = 'sent' then coalesce(m.sent_at, now()) else m.sent_at end,
            failed_at = case when o.status = 'failed' then now() else m.failed_at end
        from outcomes as o
        where m.id = o.message_id and m.status = 'sending'
        returning m.id, m.status
    )

    select coalesce(array_agg(r.id), '{}'), coalesce(array_agg(r.status), '{}') into v_ids, v_statuses
    from recorded as r;

    -- A final failure raises the workspace's message_failed alert, as record_delivery does.
    perform private.raise_alert(
        m.workspace_id, 'message_failed', 'message', m.id,
        left(
            format(
                'The %s %s to %s could not be delivered after %s attempts.',
                m.channel,
                replace(coalesce(m.template_kind, 'message'), '_', ' '),
                coalesce(m.recipient, 'nobody'),
                m.attempts
            ),
            500
        ),
        'critical'
    )
    from unnest(v_ids, v_statuses) as r (id, status)
    inner join public.messages as m on r.id = m.id
    where r.status = 'failed';

    -- The jobs, in the same transaction: archived with a final outcome, visible again later
    -- otherwise (a retry after its backoff, or at once when released).
    perform pgmq.archive(
        p_queue,
        array(
            select o.job_id
            from pg_catalog.jsonb_to_recordset(p_outcomes) as o (job_id bigint, status text)
            where o.status in ('sent', 'failed')
        )
    );
    for v_delayed in
        select o.job_id, o.retry_in_seconds
        from pg_catalog.jsonb_to_recordset(p_outcomes) as o (job_id bigint, status text, retry_in_seconds integer)
        where o.status in ('queued', 'released')
    loop
        perform pgmq.set_vt(p_queue, v_delayed.job_id, greatest(v_delayed.retry_in_seconds, 0));
    end loop;

    return query select r.id, r.status from unnest(v_ids, v_statuses) as r (id, status);
end
$$;

comment on function private.record_deliveries(text, jsonb) is
'Worker: records a group of delivery outcomes [{job_id, message_id, status, provider, provider_message_id, error, retry_in_seconds}] and settles their pgmq jobs on p_queue in one transaction. status sent or failed (final: a message_failed alert, as private.record_delivery) archives the job; queued (retry) puts the message back with its error and hides the job for retry_in_seconds; released (not sent: the worker stops) undoes the claim (attempts - 1) and hides the job for retry_in_seconds. Only messages being sent move; the others (gone, final) are left as they are, their jobs archived or delayed all the same. Returns the messages it moved, with their new status. Errors: 22023 for a malformed outcome (nothing is written).';

revoke execute on function
private.claim_message_deliveries(uuid[], interval),
private.record_deliveries(text, jsonb)
from public, anon, authenticated;
grant execute on function
private.claim_message_deliveries(uuid[], interval),
private.record_deliveries(text, jsonb)
to service_role;
