begin;
select plan(6);

-- Pacific/Auckland is UTC+13 in November (NZDT), Pacific/Honolulu UTC-10 all year.
select results_eq(
    $$select * from private.local_day('Pacific/Auckland', '2026-11-25 23:59:59+00')$$,
    $$values ('2026-11-26'::date, '2026-11-25 11:00+00'::timestamptz, '2026-11-26 11:00+00'::timestamptz)$$,
    'just before midnight UTC it is already the next day in Auckland'
);
select results_eq(
    $$select * from private.local_day('Pacific/Auckland', '2026-11-25 10:59:59+00')$$,
    $$values ('2026-11-25'::date, '2026-11-24 11:00+00'::timestamptz, '2026-11-25 11:00+00'::timestamptz)$$,
    'Auckland''s midnight is 11:00 UTC'
);
select results_eq(
    $$select * from private.local_day('Pacific/Honolulu', '2026-11-26 00:00:00+00')$$,
    $$values ('2026-11-25'::date, '2026-11-25 10:00+00'::timestamptz, '2026-11-26 10:00+00'::timestamptz)$$,
    'at midnight UTC it is still the previous day in Honolulu'
);
select results_eq(
    $$select * from private.local_day('Pacific/Honolulu', '2026-11-26 10:00:00+00')$$,
    $$values ('2026-11-26'::date, '2026-11-26 10:00+00'::timestamptz, '2026-11-27 10:00+00'::timestamptz)$$,
    'Honolulu''s midnight is 10:00 UTC'
);
select is(
    (select d.ends_at - d.starts_at from private.local_day('Pacific/Auckland', '2026-09-27 00:00+00') as d),
    interval '23 hours',
    'the day DST starts in Auckland is 23 hours long'
);

select tests.create_user('11111111-1111-1111-1111-111111111111', 'olive@example.test');
select tests.create_workspace(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'far-clinic', '11111111-1111-1111-1111-111111111111', 'Far',
    'Pacific/Auckland'
);
select tests.authenticate_as('11111111-1111-1111-1111-111111111111');
select is(
    private.dashboard_stats_at('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '2026-11-25 23:30+00')
    #>> '{workspace,today_local}',
    '2026-11-26',
    'dashboard_stats_at reports the workspace-local date'
);

select * from finish();
rollback;
