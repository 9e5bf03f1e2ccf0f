begin;
select plan(17);

select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select
    tests.create_workspace(
        'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'north-clinic', '11111111-1111-1111-1111-111111111111'
    );

create temp table ids as
select p.id as practitioner_id from public.practitioners as p
where p.workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa';

insert into public.availability_rules (id, workspace_id, practitioner_id, weekday, start_time, end_time)
select
    'cccccccc-0000-0000-0000-000000000001' as id,
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa' as workspace_id,
    practitioner_id,
    1 as weekday,  -- noqa: RF04
    '09:00' as start_time,
    '12:00' as end_time
from ids;

create temp table before as select r.* from public.availability_rules as r;

create function pg_temp.add(p_weekday integer, p_start text, p_end text)
returns text
language sql
as $$
    select format(
        $f$insert into public.availability_rules (workspace_id, practitioner_id, weekday, start_time, end_time)
        values ('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', %L, %s, %s, %s)$f$,
        (select practitioner_id from ids), coalesce(p_weekday::text, 'null'),
        coalesce(quote_literal(p_start), 'null'), coalesce(quote_literal(p_end), 'null')
    );
$$;

grant execute on function pg_temp.add(integer, text, text) to authenticated;
grant select on ids to authenticated;

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

select throws_ok(pg_temp.add(8, '09:00', '10:00'), 'PT400', 'invalid_weekday', 'a weekday of 8: invalid_weekday');
select throws_ok(pg_temp.add(0, '09:00', '10:00'), 'PT400', 'invalid_weekday', 'a weekday of 0: invalid_weekday');
select throws_ok(pg_temp.add(null, '09:00', '10:00'), 'PT400', 'invalid_weekday', 'no weekday: invalid_weekday');
select
    throws_ok(
        pg_temp.add(2, '10:00', '09:00'), 'PT400', 'invalid_time_window', 'end before start: invalid_time_window'
    );
select throws_ok(pg_temp.add(2, '10:00', '10:00'), 'PT400', 'invalid_time_window', 'empty window: invalid_time_window');
select throws_ok(pg_temp.add(2, null, '10:00'), 'PT400', 'invalid_time_window', 'no start: invalid_time_window');
select
    throws_ok(
        pg_temp.add(1, '11:00', '13:00'), 'PT409', 'availability_overlap', 'overlapping the end: availability_overlap'
    );
select
    throws_ok(
        pg_temp.add(1, '08:00', '18:00'), 'PT409', 'availability_overlap', 'covering a window: availability_overlap'
    );
select
    throws_ok(
        pg_temp.add(1, '10:00', '11:00'), 'PT409', 'availability_overlap', 'inside a window: availability_overlap'
    );

select tests.clear_authentication();
select results_eq('select * from public.availability_rules', 'select * from before', 'bad windows write nothing');

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');
select lives_ok(pg_temp.add(1, '12:00', '13:00'), 'a window that starts where another ends');
select lives_ok(pg_temp.add(1, '14:00', '24:00'), 'a window until midnight (24:00)');
select lives_ok(pg_temp.add(2, '09:00', '12:00'), 'the same hours on another weekday');
select throws_ok(
    $$update public.availability_rules set end_time = '12:30' where id = 'cccccccc-0000-0000-0000-000000000001'$$,
    'PT409', 'availability_overlap', 'an update that makes windows overlap: availability_overlap'
);
select throws_ok(
    $$update public.availability_rules set weekday = 9 where id = 'cccccccc-0000-0000-0000-000000000001'$$,
    'PT400', 'invalid_weekday', 'an update to weekday 9: invalid_weekday'
);
select lives_ok(
    $$update public.availability_rules set start_time = '08:00' where id = 'cccccccc-0000-0000-0000-000000000001'$$,
    'a window may grow where it overlaps nothing but itself'
);
select tests.clear_authentication();

select results_eq(
    $$select weekday::int, start_time::text, end_time::text from public.availability_rules order by 1, 2$$,
    $$values
        (1, '08:00:00', '12:00:00'), (1, '12:00:00', '13:00:00'),
        (1, '14:00:00', '24:00:00'), (2, '09:00:00', '12:00:00')$$,
    'the accepted windows'
);

select * from finish();
rollback;
