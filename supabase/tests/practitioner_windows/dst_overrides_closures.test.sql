begin;
select plan(6);

-- Europe/Paris moves from UTC+1 to UTC+2 on Sunday 2026-03-29 and back on Sunday 2026-10-25.
select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select tests.create_user('22222222-2222-2222-2222-222222222222', 'staff@example.test', 'Stan Staff');
select tests.create_workspace(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa',
    'paris-clinic',
    '11111111-1111-1111-1111-111111111111',
    'Paris',
    'Europe/Paris'
);
select tests.add_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '22222222-2222-2222-2222-222222222222');
insert into public.practitioners (id, workspace_id, user_id) values
(
    'dddddddd-0000-0000-0000-000000000002',
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa',
    '22222222-2222-2222-2222-222222222222'
);
update public.practitioners set id = 'dddddddd-0000-0000-0000-000000000001'
where user_id = '11111111-1111-1111-1111-111111111111';

-- Both work Sundays 01:00-04:00 (across the 02:00 jump) and Mondays 09:00-12:00.
insert into public.availability_rules (workspace_id, practitioner_id, weekday, start_time, end_time)
select
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa' as workspace_id,
    p.id as practitioner_id,
    r.weekday,
    r.s::time as start_time,
    r.e::time as end_time
from public.practitioners as p
cross join (values (7, '01:00', '04:00'), (1, '09:00', '12:00')) as r (weekday, s, e);

select results_eq(
    $$select starts_at, ends_at, ends_at - starts_at from private.practitioner_windows(
        'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '2026-03-22', '2026-03-22')
      where practitioner_id = 'dddddddd-0000-0000-0000-000000000001'$$,
    $$values ('2026-03-22 00:00+00'::timestamptz, '2026-03-22 03:00+00'::timestamptz, interval '3 hours')$$,
    'a winter Sunday: 01:00-04:00 CET is three hours'
);

select results_eq(
    $$select starts_at, ends_at, ends_at - starts_at from private.practitioner_windows(
        'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '2026-03-29', '2026-03-29')
      where practitioner_id = 'dddddddd-0000-0000-0000-000000000001'$$,
    $$values ('2026-03-29 00:00+00'::timestamptz, '2026-03-29 02:00+00'::timestamptz, interval '2 hours')$$,
    'the spring-forward Sunday: 01:00 CET to 04:00 CEST is two real hours'
);

select results_eq(
    $$select starts_at, ends_at, ends_at - starts_at from private.practitioner_windows(
        'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '2026-10-25', '2026-10-25')
      where practitioner_id = 'dddddddd-0000-0000-0000-000000000001'$$,
    $$values ('2026-10-24 23:00+00'::timestamptz, '2026-10-25 03:00+00'::timestamptz, interval '4 hours')$$,
    'the fall-back Sunday: 01:00 CEST to 04:00 CET is four real hours'
);

-- Overrides replace the day's rules; a day off removes it; a closure removes everyone.
insert into public.availability_overrides (workspace_id, practitioner_id, override_date, start_time, end_time) values
('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'dddddddd-0000-0000-0000-000000000001', '2026-06-01', '14:00', '15:00'),
('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'dddddddd-0000-0000-0000-000000000001', '2026-06-01', '16:00', '17:00'),
('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'dddddddd-0000-0000-0000-000000000002', '2026-06-08', null, null);
insert into public.workspace_closures (workspace_id, closed_on) values (
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '2026-06-15'
);

select results_eq(
    $$select practitioner_id, local_date, starts_at from private.practitioner_windows(
        'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '2026-06-01', '2026-06-15')
      where extract(isodow from local_date) = 1 order by local_date, practitioner_id, starts_at$$,
    $$values
        ('dddddddd-0000-0000-0000-000000000001'::uuid, '2026-06-01'::date, '2026-06-01 12:00+00'::timestamptz),
        ('dddddddd-0000-0000-0000-000000000001', '2026-06-01', '2026-06-01 14:00+00'),
        ('dddddddd-0000-0000-0000-000000000002', '2026-06-01', '2026-06-01 07:00+00'),
        ('dddddddd-0000-0000-0000-000000000001', '2026-06-08', '2026-06-08 07:00+00')$$,
    'replacement windows on 1 June, a day off on 8 June, nobody on the closed 15 June'
);

update public.practitioners set active = false
where id = 'dddddddd-0000-0000-0000-000000000002';
select is(
    (
        select count(*)::int
        from private.practitioner_windows('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '2026-06-01', '2026-06-07')
        where practitioner_id = 'dddddddd-0000-0000-0000-000000000002'
    ),
    0,
    'an inactive practitioner has no windows'
);

select tests.authenticate_as('33333333-3333-3333-3333-333333333333');
select is(
    (
        select count(*)::int
        from private.practitioner_windows('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '2026-06-01', '2026-06-07')
    ),
    0,
    'security invoker: an outsider sees no windows'
);
select tests.clear_authentication();

select * from finish();
rollback;
