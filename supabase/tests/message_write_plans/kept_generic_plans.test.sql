begin;
select plan(4);

-- The message-writing functions plan their statements once per session
-- (20261128300100, 20261128410000): a later `create or replace` that forgets the setting
-- plans every booking's and every sweep's messages again.
select
    ok(
        'plan_cache_mode=force_generic_plan' = any(p.proconfig),
        format('%s keeps plan_cache_mode = force_generic_plan', p.oid::regprocedure)
    )
from pg_catalog.pg_proc as p
where
    p.oid in (
        'private.queue_messages(private.message_request[])'::regprocedure,
        'private.enqueue_jobs(text, jsonb[])'::regprocedure
    )
order by p.oid::regprocedure::text;

-- One index on bookings (workspace_id, starts_at): the covering one the dashboard reads, which
-- also serves the workspace_id foreign key.
select is(
    (
        select pg_catalog.array_agg(i.indexrelid::regclass::text order by i.indexrelid::regclass::text)
        from pg_catalog.pg_index as i
        where
            i.indrelid = 'public.bookings'::regclass
            and i.indkey[0] = (
                select a.attnum from pg_catalog.pg_attribute as a
                where a.attrelid = 'public.bookings'::regclass and a.attname = 'workspace_id'
            )
            and i.indkey[1] = (
                select a.attnum from pg_catalog.pg_attribute as a
                where a.attrelid = 'public.bookings'::regclass and a.attname = 'starts_at'
            )
    ),
    array['bookings_workspace_id_starts_at_status_idx'],
    'bookings has one index on (workspace_id, starts_at), the covering one'
);

select ok(
    exists (
        select 1 from pg_catalog.pg_index as i
        where
            i.indrelid = 'public.bookings'::regclass
            and i.indkey[0] = (
                select a.attnum from pg_catalog.pg_attribute as a
                where a.attrelid = 'public.bookings'::regclass and a.attname = 'workspace_id'
            )
    ),
    'the workspace_id foreign key of bookings still has an index led by it'
);

select * from finish();
rollback;
