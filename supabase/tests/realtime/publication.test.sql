begin;
select plan(3);

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

select * from finish();
rollback;
