begin;
select plan(4);

select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select tests.create_bookable_workspace(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'move-clinic', '11111111-1111-1111-1111-111111111111'
) as type_id \gset

select tests.authenticate_as_anon();
select
    manage_token,
    booking_id
from public.book_appointment(
    p_workspace_slug => 'move-clinic',
    p_booking_type_id => :'type_id',
    p_starts_at => date_trunc('day', now()) + interval '2 days 10 hours',
    p_name => 'Pat',
    p_email => 'pat@example.test'
) \gset

select results_eq(
    format(
        $$select booking_id, starts_at from public.reschedule_booking(
            p_token => %L, p_new_starts_at => date_trunc('day', now()) + interval '2 days 10 hours 30 minutes')$$,
        :'manage_token'
    ),
    format($$values (%L::uuid, date_trunc('day', now()) + interval '2 days 10 hours 30 minutes')$$, :'booking_id'),
    'the booking moves (overlapping its own old time) and keeps its id'
);
select is(
    tests.caught(format(
        $$select public.reschedule_booking(p_token => %L, p_new_starts_at => now() + interval '1 minute')$$,
        :'manage_token'
    )) ->> 'message',
    'outside_availability',
    'a start off the grid: outside_availability'
);
select lives_ok(
    format(
        $$select public.book_appointment(p_workspace_slug => 'move-clinic', p_booking_type_id => %L,
        p_starts_at => date_trunc('day', now()) + interval '2 days 10 hours', p_name => 'Sam', p_email => 'sam@example.test')$$,
        :'type_id'
    ),
    'the old time is free'
);
select is(
    (select status from public.cancel_booking(p_token => :'manage_token')),
    'cancelled',
    'the same token still cancels after the move'
);
select tests.clear_authentication();

select * from finish();
rollback;
