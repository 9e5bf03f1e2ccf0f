-- Business metrics for GET /metrics: bookings created, forms completed and messages sent
-- today (the UTC day, platform-wide), as Prometheus gauge families.
--
-- They live in their own function, private.business_metric_families(p_at), which
-- private.metrics_snapshot() appends to its families (20261128100000_message_delivery.sql,
-- where metrics_snapshot gains its delivery families), so the two concerns change apart. Each count is a range
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
