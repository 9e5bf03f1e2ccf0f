begin;
select plan(9);

select is(
    private.first_instant('2027-03-28 01:30', 'Europe/London'), null,
    'London, spring forward: 01:30 never shows on the clock'
);
select is(
    private.first_instant('2027-10-31 01:30', 'Europe/London'), '2027-10-31 00:30+00'::timestamptz,
    'London, fall back: 01:30 is its first occurrence (BST)'
);
select is(
    private.first_instant('2027-11-07 01:30', 'America/New_York'), '2027-11-07 05:30+00'::timestamptz,
    'New York, fall back: 01:30 EDT, not EST'
);
select is(
    private.first_instant('2027-04-04 01:45', 'Australia/Lord_Howe'), '2027-04-03 14:45+00'::timestamptz,
    'Lord Howe, 30-minute fall back: 01:45 at +11:00, its first occurrence'
);
select is(
    private.first_instant('2026-10-04 02:15', 'Australia/Lord_Howe'), null,
    'Lord Howe, 30-minute spring forward: 02:15 never shows'
);
select is(
    private.first_instant('2027-06-01 09:00', 'Europe/Paris'), '2027-06-01 07:00+00'::timestamptz,
    'an ordinary local time has one instant'
);
select is(
    private.window_bound('2027-03-28 01:30', 'Europe/London'), '2027-03-28 01:30+00'::timestamptz,
    'a window bound in a gap takes the offset from before the gap'
);
select ok(
    private.is_irregular_day('2027-03-28', 'Europe/London')
    and not private.is_irregular_day('2027-03-20', 'Europe/London'),
    'DST change days are irregular, ordinary days are not'
);
select ok(
    private.is_irregular_day('2027-03-27', 'Europe/London'),
    'the day before a change at 01:00 UTC is irregular too (three-hour margin)'
);

select * from finish();
rollback;
