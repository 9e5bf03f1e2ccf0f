begin;
select plan(5);

-- Supabase Realtime streams exactly these tables to supabase-js clients, under their RLS.
select is(
    (
        select pubowner::regrole::text from pg_catalog.pg_publication
        where pubname = 'supabase_realtime'
    ),
    'postgres',
    'the supabase_realtime publication exists and belongs to postgres, as on the platform'
);

select results_eq(
    $$
        select schemaname::text collate "C", tablename::text collate "C" from pg_catalog.pg_publication_tables
        where pubname = 'supabase_realtime' order by schemaname, tablename
    $$,
    $$
        values
        ('public' collate "C", 'alerts' collate "C"),
        ('public', 'bookings'),
        ('public', 'conversations'),
        ('public', 'inventory_items'),
        ('public', 'messages')
    $$,
    'the inbox tables, bookings, alerts and stock are published, nothing else'
);

select is_empty(
    $$
        select t.tablename from pg_catalog.pg_publication_tables as t
        inner join pg_catalog.pg_class as c on c.oid = (t.schemaname || '.' || t.tablename)::regclass
        where t.pubname = 'supabase_realtime' and not c.relrowsecurity
    $$,
    'every published table has row level security on (changes reach only who may read them)'
);

-- Realtime cannot check RLS on a deleted row: a DELETE (or TRUNCATE) event would reach every
-- subscriber of the table, of any workspace, with the row's key. Only inserts and updates go out.
select results_eq(
    $$
        select pubinsert, pubupdate, pubdelete, pubtruncate from pg_catalog.pg_publication
        where pubname = 'supabase_realtime'
    $$,
    $$values (true, true, false, false)$$,
    'the publication sends inserts and updates (RLS-checked per subscriber), never deletes or truncates'
);

select is_empty(
    $$
        select t.tablename from pg_catalog.pg_publication_tables as t
        inner join pg_catalog.pg_class as c on c.oid = (t.schemaname || '.' || t.tablename)::regclass
        where t.pubname = 'supabase_realtime' and c.relreplident <> 'd'
    $$,
    'published tables keep the default replica identity: an update carries no old values'
);

select * from finish();
rollback;
