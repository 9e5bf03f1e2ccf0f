begin;
select plan(3);

select results_eq(
    $$
        select private.normalize_phone(p)
        from unnest(array[
            '+33 6 12 34 56 78', '+1 (415) 555-0100', '0044 20 7946 0958', '+49/30/1234567', ' +6831234 ',
            '+123456789012345'
        ]) with ordinality as t (p, n)
        order by n
    $$,
    $$
        values ('+33612345678'), ('+14155550100'), ('+442079460958'), ('+49301234567'), ('+6831234'),
        ('+123456789012345')
    $$,
    'international numbers with "+" or "00", grouped with spaces, dots, hyphens, slashes or parentheses, become E.164'
);

select is(
    (
        select array_agg(private.normalize_phone(p))
        from unnest(array[
            '0612345678', '+0612345678', '+123456', '+1234567890123456', '+33 6 12 34 56 78 ext 5', '++33612345678',
            '', '+', 'call me'
        ]) as t (p)
    ),
    array_fill(null::text, array[9]),
    'national numbers, a leading 0 country code, too short or long, letters, doubled plus and blanks are refused'
);

select is(private.normalize_phone(null), null, 'null stays null');

select * from finish();
rollback;
