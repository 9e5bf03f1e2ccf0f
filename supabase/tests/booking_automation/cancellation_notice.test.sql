begin;
select plan(6);

select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select tests.create_workspace(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'north-clinic', '11111111-1111-1111-1111-111111111111', 'North Clinic'
);
insert into public.booking_types (id, workspace_id, name, duration_minutes)
values ('b0000000-0000-0000-0000-000000000001', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'Massage', 30);
insert into public.contacts (id, workspace_id, name, email)
values ('c0000000-0000-0000-0000-00000000000a', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'Ann Lee', 'ann@example.test');
insert into public.bookings (id, workspace_id, booking_type_id, practitioner_id, contact_id, starts_at, ends_at)
values (
    'b1000000-0000-0000-0000-000000000001', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa',
    'b0000000-0000-0000-0000-000000000001',
    (
        select p.id from public.practitioners as p
        where p.workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'
    ),
    'c0000000-0000-0000-0000-00000000000a', now() + interval '3 days', now() + interval '3 days 30 minutes'
);
select tests.write_events();

update public.bookings set status = 'cancelled', cancelled_at = now()
where id = 'b1000000-0000-0000-0000-000000000001';
select tests.write_events();

select results_eq(
    $$select channel, status, subject from public.messages where template_kind = 'booking_cancelled'$$,
    $$
        values (
            'email', 'queued',
            'Cancelled: your Massage on ' || private.format_local_time(now() + interval '3 days', 'UTC')
        )
    $$,
    'cancelling a booking queues the cancellation notice (SMS is off by default)'
);

update public.bookings set notes = 'Called to say sorry'
where id = 'b1000000-0000-0000-0000-000000000001';
select tests.write_events();

select is(
    (
        select count(*)::int from public.messages
        where template_kind = 'booking_cancelled'
    ),
    1,
    'other updates of a cancelled booking send nothing more'
);

update public.bookings set starts_at = starts_at + interval '1 day', ends_at = ends_at + interval '1 day'
where id = 'b1000000-0000-0000-0000-000000000001';
select tests.write_events();

select is(
    (
        select count(*)::int from public.messages
        where template_kind = 'booking_rescheduled'
    ),
    0,
    'moving a cancelled booking sends no reschedule notice'
);

select is(
    (
        select count(*)::int from public.messages
        where booking_id = 'b1000000-0000-0000-0000-000000000001'
    ),
    2,
    'in all: the confirmation and the cancellation'
);

select is_empty(
    $$
        select * from private.claim_message(
            (select m.id from public.messages as m where m.template_kind = 'booking_confirmation')
        )
    $$,
    'the worker does not send the confirmation of a booking cancelled since it was queued'
);

select results_eq(
    $$
        select template_kind, status, skip_reason from public.messages
        where booking_id = 'b1000000-0000-0000-0000-000000000001' order by template_kind
    $$,
    $$
        values
        ('booking_cancelled', 'queued', null::text),
        ('booking_confirmation', 'skipped', 'booking_cancelled')
    $$,
    'it is recorded as skipped (booking_cancelled); the cancellation notice still goes'
);

select * from finish();
rollback;
