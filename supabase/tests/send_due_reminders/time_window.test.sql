begin;
select plan(13);

-- Bookings placed relative to now(): the sweep's rule is "starts within 24 h, never past, and
-- booked at least 24 h ahead or at least 12 h ago".
select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select tests.create_workspace(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'north-clinic', '11111111-1111-1111-1111-111111111111', 'North Clinic'
);
update public.communication_settings set sms_enabled = true, sms_from_number = '+33612345678'
where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa';
insert into public.booking_types (id, workspace_id, name, duration_minutes)
values ('b0000000-0000-0000-0000-000000000001', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'Massage', 30);
insert into public.contacts (id, workspace_id, name, email, phone) values
(
    'c0000000-0000-0000-0000-00000000000a',
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa',
    'Ann Lee',
    'ann@example.test',
    '+33611111111'
),
('c0000000-0000-0000-0000-00000000000b', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'Bo Ng', 'bo@example.test', null);
select tests.write_events();

create function pg_temp.book(p_id text, p_contact text, p_starts_in interval, p_made_ago interval)
returns void
language sql
as $$
    insert into public.bookings (id, workspace_id, booking_type_id, practitioner_id, contact_id, starts_at, ends_at, created_at)
    values (
        p_id::uuid, 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'b0000000-0000-0000-0000-000000000001',
        (select p.id from public.practitioners as p where p.workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'),
        p_contact::uuid, now() + p_starts_in, now() + p_starts_in + interval '30 minutes', now() - p_made_ago
    );
$$;

select pg_temp.book(
    'b1000000-0000-0000-0000-000000000001', 'c0000000-0000-0000-0000-00000000000a', '23 hours', '3 days'
);
select pg_temp.book(
    'b1000000-0000-0000-0000-000000000002', 'c0000000-0000-0000-0000-00000000000a', '25 hours', '3 days'
);
select pg_temp.book(
    'b1000000-0000-0000-0000-000000000003', 'c0000000-0000-0000-0000-00000000000a', '-1 hour', '3 days'
);
select pg_temp.book(
    'b1000000-0000-0000-0000-000000000004', 'c0000000-0000-0000-0000-00000000000a', '5 hours', '1 hour'
);
select pg_temp.book(
    'b1000000-0000-0000-0000-000000000005', 'c0000000-0000-0000-0000-00000000000a', '8 hours', '13 hours'
);
select pg_temp.book(
    'b1000000-0000-0000-0000-000000000006', 'c0000000-0000-0000-0000-00000000000b', '10 hours', '2 days'
);
select pg_temp.book(
    'b1000000-0000-0000-0000-000000000007', 'c0000000-0000-0000-0000-00000000000a', '12 hours', '2 days'
);
update public.bookings set status = 'cancelled', cancelled_at = now()
where id = 'b1000000-0000-0000-0000-000000000007';
select tests.write_events();

create temp view reminders as
select
    m.booking_id,
    m.channel,
    m.status,
    m.skip_reason
from public.messages as m
where m.template_kind = 'reminder';

select is(private.send_due_reminders(), 3, 'the sweep reminds three bookings');
select tests.write_events();

select results_eq(
    $$select booking_id, channel, status, skip_reason from reminders order by booking_id, channel$$,
    $$
        values
        ('b1000000-0000-0000-0000-000000000001'::uuid, 'email', 'queued', null::text),
        ('b1000000-0000-0000-0000-000000000001'::uuid, 'sms', 'queued', null::text),
        ('b1000000-0000-0000-0000-000000000005'::uuid, 'email', 'queued', null::text),
        ('b1000000-0000-0000-0000-000000000005'::uuid, 'sms', 'queued', null::text),
        ('b1000000-0000-0000-0000-000000000006'::uuid, 'email', 'queued', null::text),
        ('b1000000-0000-0000-0000-000000000006'::uuid, 'sms', 'skipped', 'no_phone_number')
    $$,
    '23 h ahead, and 8 h ahead booked 13 h ago: email and SMS; a contact without phone: SMS skipped'
);

select is_empty(
    $$select 1 from reminders where booking_id = 'b1000000-0000-0000-0000-000000000002'$$,
    '25 h ahead: not yet'
);
select is_empty(
    $$select 1 from reminders where booking_id = 'b1000000-0000-0000-0000-000000000003'$$,
    'a start already past: never'
);
select is_empty(
    $$select 1 from reminders where booking_id = 'b1000000-0000-0000-0000-000000000004'$$,
    'booked an hour ago for in 5 h: the confirmation is fresh, no reminder'
);
select is_empty(
    $$select 1 from reminders where booking_id = 'b1000000-0000-0000-0000-000000000007'$$,
    'a cancelled booking: never'
);

select results_eq(
    $$
        select r.booking_id, r.revision = b.revision, r.reminded_at
        from private.booking_reminders as r join public.bookings as b on b.id = r.booking_id
        order by r.booking_id
    $$,
    $$
        values
        ('b1000000-0000-0000-0000-000000000001'::uuid, true, now()),
        ('b1000000-0000-0000-0000-000000000005'::uuid, true, now()),
        ('b1000000-0000-0000-0000-000000000006'::uuid, true, now())
    $$,
    'the reminded bookings are recorded with the revision they were reminded for'
);

select is(private.send_due_reminders(), 0, 'a second sweep in a row reminds nobody');
select tests.write_events();
select is((select count(*)::int from reminders), 6, 'and writes no second reminder');

-- Moved to another start within 24 h: a notice, and no reminder is recorded for the new start.
update public.bookings set starts_at = starts_at + interval '1 hour', ends_at = ends_at + interval '1 hour'
where id = 'b1000000-0000-0000-0000-000000000001';
select tests.write_events();

select is_empty(
    $$
        select 1 from private.booking_reminders as r join public.bookings as b on b.id = r.booking_id
        where b.id = 'b1000000-0000-0000-0000-000000000001' and r.revision = b.revision
    $$,
    'rescheduling leaves the new start without a reminder'
);

select is(
    (
        select count(*)::int from public.messages
        where booking_id = 'b1000000-0000-0000-0000-000000000001' and template_kind = 'booking_rescheduled'
    ),
    2,
    'and notifies the customer of the new time (email and SMS)'
);

select is(private.send_due_reminders(), 1, 'the next sweep reminds the moved booking again');
select tests.write_events();

-- A paused conversation: the reminder is recorded as skipped, and the booking counts as reminded.
update public.conversations set automation_paused_until = 'infinity'
where contact_id = 'c0000000-0000-0000-0000-00000000000a';
update public.bookings set created_at = now() - interval '3 days'
where id = 'b1000000-0000-0000-0000-000000000004';
select tests.write_events();
select private.send_due_reminders();
select tests.write_events();

select results_eq(
    $$
        select channel, status, skip_reason from reminders
        where booking_id = 'b1000000-0000-0000-0000-000000000004' order by channel
    $$,
    $$values ('email', 'skipped', 'automation_paused'), ('sms', 'skipped', 'automation_paused')$$,
    'a paused conversation: the reminders are recorded as skipped with the reason'
);

select * from finish();
rollback;
