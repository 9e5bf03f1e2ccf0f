begin;
select plan(17);

-- Ann has both addresses, Bo only an email; SMS is on.
select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select tests.create_user('22222222-2222-2222-2222-222222222222', 'staff@example.test', 'Sam Staff');
select tests.create_workspace(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'north-clinic', '11111111-1111-1111-1111-111111111111', 'North Clinic'
);
select tests.add_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '22222222-2222-2222-2222-222222222222');
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
);
select tests.write_events();
delete from pgmq.q_jobs;

create temp table conversation as
select c.id from public.conversations as c
where c.contact_id = 'c0000000-0000-0000-0000-00000000000a';
grant select on conversation to authenticated;

create function pg_temp.book(p_id text, p_starts_in interval)
returns void
language sql
as $$
    insert into public.bookings (id, workspace_id, booking_type_id, practitioner_id, contact_id, starts_at, ends_at, created_at)
    values (
        p_id::uuid, 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'b0000000-0000-0000-0000-000000000001',
        (select p.id from public.practitioners as p where p.workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'),
        'c0000000-0000-0000-0000-00000000000a', now() + p_starts_in, now() + p_starts_in + interval '30 minutes',
        now() - interval '3 days'
    );
$$;

-- A staff reply by email.
select tests.authenticate_as('22222222-2222-2222-2222-222222222222');
create temp table reply as
select * from public.send_message(
    (select c.id from conversation as c), E'  See you on Monday.\r\nSam  ', 'email'
);
select tests.clear_authentication();

select results_eq(
    $$select direction, channel, kind, template_kind, subject, body, recipient, status from reply$$,
    $$
        values (
            'outbound', 'email', 'manual', null::text, 'Message from North Clinic', E'See you on Monday.\nSam',
            'ann@example.test', 'queued'
        )
    $$,
    'a manual email is queued to the contact''s address, trimmed, with a default subject'
);

select results_eq(
    $$select q.message from pgmq.q_jobs as q$$,
    $$
        select jsonb_build_object('kind', 'deliver_message', 'payload', jsonb_build_object('message_id', r.id))
        from reply as r
    $$,
    'one deliver_message job for the worker'
);

select results_eq(
    $$
        select c.automation_paused_until, c.automation_paused_by, c.last_message_at
        from public.conversations as c where c.id = (select v.id from conversation as v)
    $$,
    $$values (now() + interval '72 hours', '22222222-2222-2222-2222-222222222222'::uuid, now())$$,
    'the reply pauses automation for the configured 72 hours, by the replying member'
);

-- A reminder sweep while paused: recorded as skipped, nothing queued.
select pg_temp.book('b1000000-0000-0000-0000-000000000001', '5 hours');
delete from pgmq.q_jobs;
delete from pgmq.q_events;
select is(private.send_due_reminders(), 1, 'the sweep handles the due booking');
select tests.write_events();
select results_eq(
    $$
        select m.channel, m.status, m.skip_reason from public.messages as m
        where m.booking_id = 'b1000000-0000-0000-0000-000000000001' and m.template_kind = 'reminder'
        order by m.channel
    $$,
    $$values ('email', 'skipped', 'automation_paused'), ('sms', 'skipped', 'automation_paused')$$,
    'while paused, the reminder is recorded as skipped on both channels'
);
select is_empty($$select 1 from pgmq.q_jobs$$, 'and nothing is queued for the worker');

-- Resume: the next reminder goes.
select tests.authenticate_as('11111111-1111-1111-1111-111111111111');
select is(
    (select r.automation_paused_until from public.resume_automation((select c.id from conversation as c)) as r),
    null,
    'resume_automation clears the pause'
);
select tests.clear_authentication();
select pg_temp.book('b1000000-0000-0000-0000-000000000002', '7 hours');
delete from pgmq.q_jobs;
delete from pgmq.q_events;
select is(private.send_due_reminders(), 1, 'the next sweep handles the next due booking');
select tests.write_events();
select results_eq(
    $$
        select m.channel, m.status from public.messages as m
        where m.booking_id = 'b1000000-0000-0000-0000-000000000002' and m.template_kind = 'reminder'
        order by m.channel
    $$,
    $$values ('email', 'queued'), ('sms', 'queued')$$,
    'after resume, the reminder is queued on both channels'
);
select is((select count(*)::int from pgmq.q_jobs), 2, 'with a delivery job each');

-- An SMS reply; with the pause set to "until resumed" it pauses indefinitely.
update public.communication_settings set automation_pause_hours = null
where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa';
select tests.authenticate_as('11111111-1111-1111-1111-111111111111');
select results_eq(
    $$
        select m.channel, m.subject, m.recipient, m.status
        from public.send_message((select c.id from conversation as c), 'On my way', 'sms') as m
    $$,
    $$values ('sms', null::text, '+33611111111', 'queued')$$,
    'an SMS goes to the contact''s phone, without subject'
);
select tests.clear_authentication();
select is(
    (
        select c.automation_paused_until from public.conversations as c
        where c.id = (select v.id from conversation as v)
    ),
    'infinity'::timestamptz,
    'a null pause length pauses until someone resumes'
);

-- A pause that has run out lets automation through again.
update public.conversations set automation_paused_until = now() - interval '1 minute'
where id = (select v.id from conversation as v);
select pg_temp.book('b1000000-0000-0000-0000-000000000003', '9 hours');
select is(private.send_due_reminders(), 1, 'a sweep after the pause ran out');
select tests.write_events();
select is(
    (
        select count(*)::int from public.messages as m
        where
            m.booking_id = 'b1000000-0000-0000-0000-000000000003'
            and m.template_kind = 'reminder'
            and m.status = 'queued'
    ),
    2,
    'queues the reminder again (auto-resume)'
);

-- The pause length is validated.
select throws_ok(
    $$update public.communication_settings set automation_pause_hours = 0$$,
    'PT400', 'invalid_pause_hours', 'a pause of 0 hours: invalid_pause_hours'
);
select throws_ok(
    $$update public.communication_settings set automation_pause_hours = 721$$,
    'PT400', 'invalid_pause_hours', 'a pause over 720 hours: invalid_pause_hours'
);
select is(
    (
        select s.automation_pause_hours from public.communication_settings as s
        where s.workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'
    ),
    null,
    'and the setting is unchanged'
);

select * from finish();
rollback;
