begin;
select plan(12);

select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select
    tests.create_workspace(
        'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'north-clinic', '11111111-1111-1111-1111-111111111111'
    );

create temp table ids as
select p.id as practitioner_id from public.practitioners as p
where p.workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa';

insert into public.availability_overrides (workspace_id, practitioner_id, override_date)
select
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa' as workspace_id,
    practitioner_id,
    '2030-01-01' as override_date
from ids;
insert into public.availability_overrides (workspace_id, practitioner_id, override_date, start_time, end_time)
select
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa' as workspace_id,
    practitioner_id,
    '2030-01-02' as override_date,
    '10:00' as start_time,
    '12:00' as end_time
from ids;

create temp table before as select o.* from public.availability_overrides as o;

create function pg_temp.add(p_date text, p_start text, p_end text, p_note text default null)
returns text
language sql
as $$
    select format(
        $f$insert into public.availability_overrides
        (workspace_id, practitioner_id, override_date, start_time, end_time, note)
        values ('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', %L, %s, %s, %s, %s)$f$,
        (select practitioner_id from ids), coalesce(quote_literal(p_date), 'null'),
        coalesce(quote_literal(p_start), 'null'), coalesce(quote_literal(p_end), 'null'),
        coalesce(quote_literal(p_note), 'null')
    );
$$;

grant execute on function pg_temp.add(text, text, text, text) to authenticated;
grant select on ids to authenticated;

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

select throws_ok(pg_temp.add(null, null, null), 'PT400', 'invalid_date', 'no date: invalid_date');
select
    throws_ok(
        pg_temp.add('2030-01-03', '10:00', null),
        'PT400',
        'invalid_time_window',
        'a start without an end: invalid_time_window'
    );
select
    throws_ok(
        pg_temp.add('2030-01-03', '12:00', '10:00'),
        'PT400',
        'invalid_time_window',
        'end before start: invalid_time_window'
    );
select
    throws_ok(
        pg_temp.add('2030-01-03', null, null, E'a\tb'), 'PT400', 'invalid_note', 'a note with a tab: invalid_note'
    );
select
    throws_ok(
        pg_temp.add('2030-01-01', '10:00', '11:00'),
        'PT409',
        'availability_overlap',
        'a window on a day off: availability_overlap'
    );
select
    throws_ok(
        pg_temp.add('2030-01-01', null, null), 'PT409', 'availability_overlap', 'a second day off: availability_overlap'
    );
select
    throws_ok(
        pg_temp.add('2030-01-02', null, null),
        'PT409',
        'availability_overlap',
        'a day off over windows: availability_overlap'
    );
select
    throws_ok(
        pg_temp.add('2030-01-02', '11:00', '13:00'),
        'PT409',
        'availability_overlap',
        'overlapping windows: availability_overlap'
    );

select tests.clear_authentication();
select results_eq('select * from public.availability_overrides', 'select * from before', 'bad overrides write nothing');

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');
select lives_ok(pg_temp.add('2030-01-02', '14:00', '18:00', '  Extra afternoon  '), 'a second replacement window');
select tests.clear_authentication();

select is(
    (
        select note from public.availability_overrides
        where start_time = '14:00'
    ),
    'Extra afternoon',
    'the note is trimmed'
);

-- Without the trigger, the exclusion constraint still refuses overlaps.
alter table public.availability_overrides disable trigger availability_overrides_validate;
select throws_ok(
    format(
        $f$insert into public.availability_overrides (workspace_id, practitioner_id, override_date)
        values ('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', %L, '2030-01-02')$f$,
        (select practitioner_id from ids)
    ),
    '23P01', null, 'the exclusion constraint is the backstop'
);

select * from finish();
rollback;
