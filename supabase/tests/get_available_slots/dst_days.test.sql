begin;
select plan(5);

select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select tests.create_bookable_workspace(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'london-clinic', '11111111-1111-1111-1111-111111111111', 'Europe/London'
) as type_id \gset
update public.booking_types set max_days_ahead = 730
where id = :'type_id';
delete from public.availability_rules
where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa';
insert into public.availability_rules (workspace_id, practitioner_id, weekday, start_time, end_time)
select
    p.workspace_id,
    p.id,
    7 as iso_weekday,
    '00:00' as opens,
    '04:00' as closes
from public.practitioners as p
where p.workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa';

create temp table spring as
select s.starts_at from private.available_slots(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', :'type_id', '2027-03-28', '2027-03-28', null, '2027-01-01 00:00+00'
) as s;
create temp table autumn as
select s.starts_at from private.available_slots(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', :'type_id', '2027-10-31', '2027-10-31', null, '2027-01-01 00:00+00'
) as s;

select results_eq(
    $$select to_char(starts_at at time zone 'Europe/London', 'HH24:MI') from spring order by 1$$,
    $$values ('00:00'), ('00:30'), ('02:00'), ('02:30'), ('03:00'), ('03:30')$$,
    'spring forward: no slot at a local time the clock skips'
);
select is(
    (select max(starts_at) from spring), '2027-03-28 02:30+00'::timestamptz,
    'the last spring slot (03:30 BST) ends at 04:00 BST'
);
select results_eq(
    $$select to_char(starts_at at time zone 'Europe/London', 'HH24:MI') from autumn order by starts_at$$,
    $$values ('00:00'), ('00:30'), ('01:00'), ('01:30'), ('02:00'), ('02:30'), ('03:00'), ('03:30')$$,
    'fall back: each local time once'
);
select results_eq(
    $$select starts_at from autumn where to_char(starts_at at time zone 'Europe/London', 'HH24:MI') = '01:30'$$,
    $$values ('2027-10-31 00:30+00'::timestamptz)$$,
    'the repeated 01:30 is offered at its first occurrence'
);
select is(
    (
        select count(*)::int from private.available_slots(
            'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', :'type_id', '2027-03-21', '2027-03-21', null, '2027-01-01 00:00+00'
        )
    ),
    8,
    'an ordinary Sunday offers 00:00 to 03:30'
);

select * from finish();
rollback;
