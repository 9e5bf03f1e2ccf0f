begin;
create extension if not exists pgtap with schema extensions;
select plan(10);

select has_extension('pg_cron', 'pg_cron is installed');
select has_extension('btree_gist', 'btree_gist is installed');
select has_extension('pgcrypto', 'pgcrypto is installed');
select has_schema('pgmq', 'pgmq is installed');
select has_schema('private', 'the private schema exists');

select ok(
    not has_schema_privilege('anon', 'private', 'usage'),
    'anon cannot use the private schema'
);
select is(
    (
        select count(*)::int from pgmq.meta
        where queue_name = 'jobs'
    ),
    1,
    'the jobs queue exists'
);
select is(
    current_setting('cron.database_name'),
    current_database()::text,
    'pg_cron schedules in this database'
);
select function_privs_are(
    'private', 'touch_updated_at', array[]::text[], 'anon', array[]::text[],
    'anon cannot execute private.touch_updated_at'
);
select function_privs_are(
    'private', 'enqueue_job', array['text', 'jsonb', 'integer'], 'authenticated', array[]::text[],
    'authenticated cannot enqueue jobs directly'
);

select * from finish();
rollback;
