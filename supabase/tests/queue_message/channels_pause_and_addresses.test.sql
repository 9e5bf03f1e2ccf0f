begin;
select plan(17);

select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select tests.create_workspace(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'north-clinic', '11111111-1111-1111-1111-111111111111', 'North Clinic'
);
update public.communication_settings set sms_enabled = true, sms_from_number = '+33612345678'
where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa';
-- Ann has both addresses, Bo only an email.
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
-- Start from a clean slate: the welcome trigger has already written to both.
delete from public.conversations;
delete from public.messages;
delete from pgmq.q_jobs;

create temp table queued as
select private.queue_message(
    'c0000000-0000-0000-0000-00000000000a', 'welcome', 'email',
    '{"contact_name": "Ann Lee", "workspace_name": "North Clinic"}', 'welcome:ann:email'
) as message_id;

select results_eq(
    $$
        select m.direction, m.channel, m.kind, m.template_kind, m.subject, m.recipient, m.status, m.skip_reason, m.attempts
        from public.messages as m where m.id = (select q.message_id from queued as q)
    $$,
    $$
        values (
            'outbound', 'email', 'automated', 'welcome', 'Welcome to North Clinic', 'ann@example.test', 'queued',
            null::text, 0
        )
    $$,
    'an email is rendered from the workspace''s template and queued to the contact''s address'
);

select ok(
    (
        select m.body like 'Hello Ann Lee,%' from public.messages as m
        where m.id = (select q.message_id from queued as q)
    ),
    'the body is rendered with the values'
);

select results_eq(
    $$select q.message from pgmq.q_jobs as q$$,
    $$
        select jsonb_build_object('kind', 'deliver_message', 'payload', jsonb_build_object('message_id', message_id))
        from queued
    $$,
    'one deliver_message job carries the message id and nothing else'
);

select results_eq(
    $$select c.contact_id, c.last_message_at from public.conversations as c$$,
    $$values ('c0000000-0000-0000-0000-00000000000a'::uuid, now())$$,
    'the contact''s conversation is created and shows the last message time'
);

select is(
    private.queue_message(
        'c0000000-0000-0000-0000-00000000000a', 'welcome', 'email',
        '{"contact_name": "Ann Lee", "workspace_name": "North Clinic"}', 'welcome:ann:email'
    ),
    (select q.message_id from queued as q),
    'the same idempotency key returns the same message'
);

select is((select count(*)::int from pgmq.q_jobs), 1, 'and enqueues no second job');

select isnt(
    private.queue_message(
        'c0000000-0000-0000-0000-00000000000a', 'welcome', 'sms',
        '{"contact_name": "Ann Lee", "workspace_name": "North Clinic"}', 'welcome:ann:sms'
    ),
    null,
    'an SMS to a contact with a phone is queued'
);

select is(
    (select count(*)::int from public.conversations),
    1,
    'the conversation is reused'
);

select results_eq(
    $$
        select m.recipient, m.status, m.body from public.messages as m
        where m.idempotency_key = 'welcome:ann:sms'
    $$,
    $$values ('+33611111111', 'queued', 'Welcome to North Clinic, Ann Lee!')$$,
    'the SMS goes to the phone number with the SMS template'
);

select private.queue_message(
    'c0000000-0000-0000-0000-00000000000b', 'welcome', 'sms', '{"contact_name": "Bo Ng"}', 'welcome:bo:sms'
);

select results_eq(
    $$
        select m.recipient, m.status, m.skip_reason from public.messages as m
        where m.idempotency_key = 'welcome:bo:sms'
    $$,
    $$values (null::text, 'skipped', 'no_phone_number')$$,
    'no phone number: the SMS is recorded as skipped with the reason'
);

update public.conversations set automation_paused_until = 'infinity'
where contact_id = 'c0000000-0000-0000-0000-00000000000a';

select private.queue_message(
    'c0000000-0000-0000-0000-00000000000a', 'reminder', 'email', '{"contact_name": "Ann Lee"}', 'reminder:ann:email'
);

select results_eq(
    $$
        select m.recipient, m.status, m.skip_reason from public.messages as m
        where m.idempotency_key = 'reminder:ann:email'
    $$,
    $$values ('ann@example.test', 'skipped', 'automation_paused')$$,
    'a paused conversation: the automated message is recorded as skipped, not sent'
);

select is(
    (select count(*)::int from pgmq.q_jobs),
    2,
    'skipped messages enqueue nothing (two jobs: the two queued messages)'
);

update public.conversations set automation_paused_until = now() - interval '1 minute'
where contact_id = 'c0000000-0000-0000-0000-00000000000a';

select private.queue_message('c0000000-0000-0000-0000-00000000000a', 'reminder', 'sms', '{}', 'reminder:ann:sms');

select is(
    (
        select m.status from public.messages as m
        where m.idempotency_key = 'reminder:ann:sms'
    ),
    'queued',
    'a pause that has ended no longer skips'
);

update public.communication_settings set sms_enabled = false
where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa';

select is(
    private.queue_message(
        'c0000000-0000-0000-0000-00000000000a', 'booking_cancelled', 'sms', '{}', 'cancelled:ann:sms'
    ),
    null,
    'SMS switched off: nothing is queued'
);

select is(
    (
        select count(*)::int from public.messages
        where idempotency_key = 'cancelled:ann:sms'
    ),
    0,
    'and nothing is written'
);

insert into public.contacts (id, workspace_id, name, phone) values
('c0000000-0000-0000-0000-00000000000c', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'Cy Phone', '+33622222222');
select tests.write_events();

select results_eq(
    $$
        select m.channel, m.recipient, m.status, m.skip_reason from public.messages as m
        where m.idempotency_key = 'welcome:c0000000-0000-0000-0000-00000000000c:email'
    $$,
    $$values ('email', null::text, 'skipped', 'no_email_address')$$,
    'no email address: the welcome email is recorded as skipped with the reason'
);

delete from public.message_templates
where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa' and kind = 'booking_cancelled' and channel = 'email';

select is(
    private.queue_message(
        'c0000000-0000-0000-0000-00000000000a', 'booking_cancelled', 'email', '{}', 'cancelled:ann:email'
    ),
    null,
    'no template for the kind and channel: nothing is queued'
);

select * from finish();
rollback;
