begin;
select plan(5);

select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select tests.create_bookable_workspace(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'cancel-clinic', '11111111-1111-1111-1111-111111111111'
) as type_id \gset

select tests.authenticate_as_anon();
select
    manage_token,
    booking_id
from public.book_appointment(
    p_workspace_slug => 'cancel-clinic',
    p_booking_type_id => :'type_id',
    p_starts_at => date_trunc('day', now()) + interval '2 days 10 hours',
    p_name => 'Pat',
    p_email => 'pat@example.test'
) \gset

select results_eq(
    format(
        $$select booking_id, status from public.cancel_booking(p_token => %L, p_reason => 'Cannot come')$$,
        :'manage_token'
    ),
    format($$values (%L::uuid, 'cancelled')$$, :'booking_id'),
    'the customer cancels with the token'
);
select is(
    tests.caught(format('select public.cancel_booking(p_token => %L)', :'manage_token')) ->> 'message',
    'booking_cancelled',
    'a second cancel: booking_cancelled'
);
select is(
    tests.caught($$select public.cancel_booking(p_token => 'made-up')$$) ->> 'message',
    'not_found',
    'an unknown token: not_found'
);
select lives_ok(
    format(
        $$select public.book_appointment(p_workspace_slug => 'cancel-clinic', p_booking_type_id => %L,
        p_starts_at => date_trunc('day', now()) + interval '2 days 10 hours', p_name => 'Sam', p_email => 'sam@example.test')$$,
        :'type_id'
    ),
    'the freed time can be booked again'
);
select tests.clear_authentication();
select results_eq(
    format($$select cancellation_reason, cancelled_by from public.bookings where id = %L$$, :'booking_id'),
    $$values ('Cannot come', null::uuid)$$,
    'the reason is kept; cancelled by the customer'
);

select * from finish();
rollback;
