-- The job queue: one pgmq queue that triggers and RPCs feed and the worker drains.

select pgmq.create('jobs');

create function private.enqueue_job(p_kind text, p_payload jsonb, p_delay_seconds integer default 0)
returns bigint
language sql
security definer
set search_path = ''
as $$
    select pgmq.send(
        'jobs',
        pg_catalog.jsonb_build_object('kind', p_kind, 'payload', p_payload),
        p_delay_seconds
    );
$$;

comment on function private.enqueue_job(text, jsonb, integer) is
'Puts a job {kind, payload} on the jobs queue for the worker; returns the message id.';

revoke execute on function private.enqueue_job(text, jsonb, integer) from public;
grant execute on function private.enqueue_job(text, jsonb, integer) to service_role;
