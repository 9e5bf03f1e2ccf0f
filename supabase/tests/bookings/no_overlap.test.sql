begin;
select plan(5);

select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select tests.create_bookable_workspace(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'overlap-clinic', '11111111-1111-1111-1111-111111111111'
) as type_id \gset
insert into public.contacts (id, workspace_id, name, email)
values ('cccccccc-cccc-cccc-cccc-cccccccccccc', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'Pat', 'pat@example.test');

create function pg_temp.insert_booking(
    p_starts text, p_ends text, p_after integer default 0, p_status text default 'confirmed'
)
returns void
language sql
as $$
    insert into public.bookings (
        workspace_id, booking_type_id, practitioner_id, contact_id, starts_at, ends_at, buffer_after_minutes,
        status, cancelled_at
    )
    select
        p.workspace_id, t.id, p.id, 'cccccccc-cccc-cccc-cccc-cccccccccccc', p_starts::timestamptz, p_ends::timestamptz,
        p_after, p_status, case when p_status = 'cancelled' then now() end
    from public.practitioners as p
    inner join public.booking_types as t on p.workspace_id = t.workspace_id
    where p.workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa';
$$;

select lives_ok(
    $$select pg_temp.insert_booking('2030-01-07 10:00+00', '2030-01-07 10:30+00', 15)$$,
    'a booking with a 15-minute buffer after'
);
select throws_ok(
    $$select pg_temp.insert_booking('2030-01-07 10:40+00', '2030-01-07 11:00+00')$$,
    '23P01',
    null,
    'a second live booking inside the first one''s buffer is refused by the database'
);
select lives_ok(
    $$select pg_temp.insert_booking('2030-01-07 10:45+00', '2030-01-07 11:15+00')$$,
    'a booking that starts where the buffer ends fits'
);
select lives_ok(
    $$select pg_temp.insert_booking('2030-01-07 10:00+00', '2030-01-07 10:30+00', 0, 'cancelled')$$,
    'a cancelled booking holds no time'
);
select is(
    (
        select blocked_period from public.bookings
        where starts_at = '2030-01-07 10:00+00' and status = 'confirmed'
    ),
    tstzrange('2030-01-07 10:00+00', '2030-01-07 10:45+00'),
    'blocked_period is the booking plus its buffers'
);

select * from finish();
rollback;
