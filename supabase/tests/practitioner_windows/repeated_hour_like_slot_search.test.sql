begin;
select plan(3);

-- New York falls back on Sunday 2027-11-07: 01:00-02:00 EDT (05:00-06:00Z) is repeated as
-- 01:00-02:00 EST (06:00-07:00Z). A Sunday rule 01:00-03:00 starts at the first 01:00.
select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select tests.create_bookable_workspace(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'ny-clinic', '11111111-1111-1111-1111-111111111111', 'America/New_York'
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
    '01:00' as opens,
    '03:00' as closes
from public.practitioners as p
where p.workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa';

select results_eq(
    $$select starts_at, ends_at from private.practitioner_windows(
        'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '2027-11-07', '2027-11-07')$$,
    $$values ('2027-11-07 05:00+00'::timestamptz, '2027-11-07 08:00+00'::timestamptz)$$,
    'the window opens at the first 01:00 (EDT) and closes at 03:00 EST: three real hours'
);

select is(
    (
        select min(s.starts_at) from private.available_slots(
            'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', :'type_id', '2027-11-07', '2027-11-07', null,
            '2027-01-01 00:00+00'
        ) as s
    ),
    (
        select min(w.starts_at) from private.practitioner_windows(
            'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '2027-11-07', '2027-11-07'
        ) as w
    ),
    'the slot search offers its first start where the window opens'
);

select ok(
    not exists (
        select 1
        from
            private.available_slots(
                'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', :'type_id', '2027-11-07', '2027-11-07', null,
                '2027-01-01 00:00+00'
            ) as s
        where not exists (
            select 1 from
                private.practitioner_windows(
                    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '2027-11-07', '2027-11-07'
                ) as w
            where s.starts_at >= w.starts_at and s.ends_at <= w.ends_at
        )
    ),
    'every offered slot lies inside a window'
);

select * from finish();
rollback;
