-- One claim rule for every path. private.claim_message (automation), private.claim_message_delivery
-- (one message, the worker's first version) and private.claim_message_deliveries (a read batch,
-- what the worker calls now) each carried their own copy of the rule: a queued message about a
-- booking cancelled since is skipped; queued, or sending with a claim older than the time-out,
-- moves to sending with attempts + 1, in one update with the status in its where. The batch
-- function is now the only copy; the other two call it with one id.
--
-- The batch function also tells the rows it claimed from the others by their ids rather than
-- by claimed_at = now(), so a second claim of the same message in one transaction reports it
-- as being sent (as claim_message_delivery always did) instead of leaving it out.

create or replace function private.claim_message_deliveries(p_message_ids uuid[], p_claim_timeout interval)
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
    v_claimed uuid[];
begin
    -- A message about a booking cancelled since it was queued is not sent (the cancellation
    -- notice itself is); it becomes skipped and its job archived.
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
    with claimed as (
        update public.messages as m
        set status = 'sending', attempts = m.attempts + 1, claimed_at = now()
        where
            m.id = any(p_message_ids)
            and m.direction = 'outbound'
            and (m.status = 'queued' or (m.status = 'sending' and m.claimed_at <= now() - p_claim_timeout))
        returning m.id
    )

    select coalesce(array_agg(c.id), '{}') into v_claimed from claimed as c;

    return query
    select
        true, m.status, null::integer, m.id, m.workspace_id, m.channel, m.recipient, m.subject, m.body,
        m.attempts, m.idempotency_key,
        coalesce(s.sender_name, w.name), s.sender_email, coalesce(s.reply_to_email, s.sender_email),
        s.sms_from_number
    from public.messages as m
    inner join public.workspaces as w on m.workspace_id = w.id
    left join public.communication_settings as s on m.workspace_id = s.workspace_id
    where m.id = any(v_claimed);
    -- The rest, in a new snapshot (so a row claimed by another worker meanwhile shows sending):
    -- final (archive the job), being sent by another worker (come back when that claim times
    -- out), or no row at all (gone).
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
    where m.id = any(p_message_ids) and m.id <> all(v_claimed);
end
$$;

create or replace function private.claim_message_delivery(p_message_id uuid, p_claim_timeout interval)
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
    return query select * from private.claim_message_deliveries(array[p_message_id], p_claim_timeout);
end
$$;

create or replace function private.claim_message(p_message_id uuid)
returns table (
    message_id uuid,
    workspace_id uuid,
    channel text,
    recipient text,
    subject text,
    body text,
    attempts integer,
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
    -- A claim older than 10 minutes is taken over (the worker crashed).
    return query
    select
        c.message_id, c.workspace_id, c.channel, c.recipient, c.subject, c.body, c.attempts,
        c.sender_name, c.sender_email, c.reply_to_email, c.sms_from_number
    from private.claim_message_deliveries(array[p_message_id], interval '10 minutes') as c
    where c.claimed;
end
$$;
