begin;
select plan(7);

select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select tests.create_bookable_workspace(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'happy-clinic', '11111111-1111-1111-1111-111111111111'
) as type_id \gset

select tests.authenticate_as_anon();

create temp table booked as
select *
from public.book_appointment(
    p_workspace_slug => 'happy-clinic',
    p_booking_type_id => :'type_id',
    p_starts_at => date_trunc('day', now()) + interval '2 days 10 hours',
    p_name => ' Pat Doe ',
    p_email => ' Pat@Example.TEST ',
    p_phone => '+33 6 12 34 56 78'
);

select tests.clear_authentication();

select is((select count(*)::int from booked), 1, 'anon books through the RPC');
select is((select practitioner_name from booked), 'Olive Owner', 'the practitioner''s display name comes back');
select ok((select char_length(manage_token) >= 43 from booked), 'a manage token with 256 random bits comes back');
select results_eq(
    $$
        select c.name, c.email, c.phone from public.contacts as c
        where c.workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'
    $$,
    $$values ('Pat Doe', 'pat@example.test', '+33612345678')$$,
    'the contact is created with trimmed name, lower-cased email and E.164 phone'
);
select results_eq(
    $$
        select b.status, b.ends_at - b.starts_at, b.manage_token_hash = private.token_hash(k.manage_token)
        from public.bookings as b inner join booked as k on b.id = k.booking_id
    $$,
    $$values ('confirmed', interval '30 minutes', true)$$,
    'the booking is confirmed, 30 minutes long, and stores only the hash of the token'
);

select tests.authenticate_as_anon();
select is(
    (
        select count(*)::int from public.get_available_slots(
            p_workspace_slug => 'happy-clinic',
            p_booking_type_id => :'type_id',
            p_from => (now() + interval '2 days')::date,
            p_to => (now() + interval '2 days')::date
        )
    ),
    47,
    'the booked half hour is no longer offered (48 - 1)'
);
select throws_ok(
    $$select count(*) from public.bookings$$,
    '42501',
    null,
    'anon reads no table'
);
select tests.clear_authentication();

select * from finish();
rollback;
