begin;
select plan(26);

select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select
    tests.create_workspace(
        'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'north-clinic', '11111111-1111-1111-1111-111111111111'
    );
insert into public.booking_types (id, workspace_id, name, duration_minutes)
values ('bbbbbbbb-0000-0000-0000-000000000001', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'Existing', 30);

create temp table written_before as
select
    count(*)::int as booking_types,
    (select md5(string_agg(t::text, ',')) from public.booking_types as t) as digest
from public.booking_types;

create function pg_temp.written()
returns table (booking_types int, digest text)
language sql
as $$
    select count(*)::int, (select md5(string_agg(t::text, ',')) from public.booking_types as t)
    from public.booking_types;
$$;

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

-- Each bad write: (label, statement, expected code).
create temp table bad_inserts (what_is_wrong text, bad_statement text, expected_code text);
insert into bad_inserts (what_is_wrong, bad_statement, expected_code) values
(
    'empty name',
    $$insert into public.booking_types (workspace_id, name, duration_minutes)
      values ('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '  ', 30)$$,
    'invalid_name'
),
(
    'name with a newline',
    $$insert into public.booking_types (workspace_id, name, duration_minutes)
      values ('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', E'a\nb', 30)$$,
    'invalid_name'
),
(
    '121-character name',
    $$insert into public.booking_types (workspace_id, name, duration_minutes)
      values ('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', repeat('n', 121), 30)$$,
    'invalid_name'
),
(
    '2001-character description',
    $$insert into public.booking_types (workspace_id, name, description, duration_minutes)
      values ('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'X', repeat('d', 2001), 30)$$,
    'invalid_description'
),
(
    'description with a bell',
    $$insert into public.booking_types (workspace_id, name, description, duration_minutes)
      values ('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'X', E'ding\x07', 30)$$,
    'invalid_description'
),
(
    '201-character location',
    $$insert into public.booking_types (workspace_id, name, location, duration_minutes)
      values ('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'X', repeat('l', 201), 30)$$,
    'invalid_location'
),
(
    'negative duration',
    $$insert into public.booking_types (workspace_id, name, duration_minutes)
      values ('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'X', -30)$$,
    'invalid_duration'
),
(
    'zero duration',
    $$insert into public.booking_types (workspace_id, name, duration_minutes)
      values ('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'X', 0)$$,
    'invalid_duration'
),
(
    '721-minute duration',
    $$insert into public.booking_types (workspace_id, name, duration_minutes)
      values ('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'X', 721)$$,
    'invalid_duration'
),
(
    'null duration',
    $$insert into public.booking_types (workspace_id, name, duration_minutes)
      values ('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'X', null)$$,
    'invalid_duration'
),
(
    'negative buffer before',
    $$insert into public.booking_types (workspace_id, name, duration_minutes, buffer_before_minutes)
      values ('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'X', 30, -1)$$,
    'invalid_buffer'
),
(
    '241-minute buffer after',
    $$insert into public.booking_types (workspace_id, name, duration_minutes, buffer_after_minutes)
      values ('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'X', 30, 241)$$,
    'invalid_buffer'
),
(
    'negative notice',
    $$insert into public.booking_types (workspace_id, name, duration_minutes, min_notice_minutes)
      values ('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'X', 30, -5)$$,
    'invalid_booking_window'
),
(
    'zero days ahead',
    $$insert into public.booking_types (workspace_id, name, duration_minutes, max_days_ahead)
      values ('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'X', 30, 0)$$,
    'invalid_booking_window'
),
(
    '731 days ahead',
    $$insert into public.booking_types (workspace_id, name, duration_minutes, max_days_ahead)
      values ('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'X', 30, 731)$$,
    'invalid_booking_window'
),
(
    'notice beyond the horizon',
    $$insert into public.booking_types (workspace_id, name, duration_minutes, min_notice_minutes, max_days_ahead)
      values ('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'X', 30, 2880, 2)$$,
    'invalid_booking_window'
),
(
    'zero slot interval',
    $$insert into public.booking_types (workspace_id, name, duration_minutes, slot_interval_minutes)
      values ('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'X', 30, 0)$$,
    'invalid_slot_interval'
),
(
    'zero daily capacity',
    $$insert into public.booking_types (workspace_id, name, duration_minutes, daily_capacity)
      values ('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'X', 30, 0)$$,
    'invalid_daily_capacity'
),
(
    'update to a negative duration',
    $$update public.booking_types set duration_minutes = -1
      where id = 'bbbbbbbb-0000-0000-0000-000000000001'$$,
    'invalid_duration'
),
(
    'update to a blank name',
    $$update public.booking_types set name = ''
      where id = 'bbbbbbbb-0000-0000-0000-000000000001'$$,
    'invalid_name'
);

select tests.clear_authentication();
grant select on bad_inserts to authenticated;
select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

select throws_ok(b.bad_statement, 'PT400', b.expected_code, b.what_is_wrong || ': ' || b.expected_code)
from bad_inserts as b
order by b.what_is_wrong;

select tests.clear_authentication();

select results_eq(
    'select * from pg_temp.written()',
    'select * from written_before',
    'none of the bad writes changed anything'
);

-- The check constraints are the backstop when the trigger is bypassed.
alter table public.booking_types disable trigger booking_types_validate;
select throws_ok(
    $$insert into public.booking_types (workspace_id, name, duration_minutes, slot_interval_minutes)
      values ('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'X', -1, 30)$$,
    '23514', null, 'without the trigger, the duration check still refuses'
);
select throws_ok(
    $$insert into public.booking_types (workspace_id, name, duration_minutes, slot_interval_minutes)
      values ('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', ' X', 30, 30)$$,
    '23514', null, 'without the trigger, an untrimmed name is refused'
);
alter table public.booking_types enable trigger booking_types_validate;

-- Boundaries are accepted, and the slot interval defaults to the duration.
select tests.authenticate_as('11111111-1111-1111-1111-111111111111');
select lives_ok(
    $$insert into public.booking_types (workspace_id, name, description, duration_minutes, buffer_before_minutes,
      buffer_after_minutes, min_notice_minutes, max_days_ahead, daily_capacity, location)
      values ('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '  Long one  ',
      E'Line one\nLine two', 720, 240, 240, 43200, 730, 1000, '   ')$$,
    'upper bounds are accepted'
);
select tests.clear_authentication();

select results_eq(
    $$select name, description, location, slot_interval_minutes from public.booking_types
      where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa' and name <> 'Existing'$$,
    $$values ('Long one'::text, E'Line one\nLine two'::text, null::text, 720)$$,
    'texts are trimmed, a blank location is null, the interval defaults to the duration'
);

select is(
    (
        select count(*)::int from public.booking_types
        where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'
    ),
    2,
    'only the existing and the valid type exist'
);

select * from finish();
rollback;
