begin;
select plan(8);

select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select tests.create_workspace(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'north-clinic', '11111111-1111-1111-1111-111111111111', 'North Clinic'
);
update public.communication_settings
set sender_email = 'hello@north.example', sender_name = null, sms_enabled = true, sms_from_number = '+33612345678'
where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa';
-- The platform verified the workspace's sending domain (private.workspace_senders).
insert into public.sender_identities (workspace_id, kind, value, status)
values ('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'email_domain', 'north.example', 'verified');
insert into public.contacts (id, workspace_id, name, email, phone) values
('c0000000-0000-0000-0000-00000000000a', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'Ann Lee', 'ann@example.test', null);

create temp table queued as
select
    private.queue_message(
        'c0000000-0000-0000-0000-00000000000a', 'welcome', 'email',
        '{"contact_name": "Ann Lee", "workspace_name": "North Clinic"}', 'welcome:ann:email'
    ) as message_id,
    private.queue_message(
        'c0000000-0000-0000-0000-00000000000a', 'welcome', 'sms', '{}', 'welcome:ann:sms'
    ) as skipped_id;

select results_eq(
    $$
        select c.channel, c.recipient, c.subject, c.attempts, c.sender_name, c.sender_email, c.reply_to_email
        from private.claim_message((select q.message_id from queued as q)) as c
    $$,
    $$
        values (
            'email', 'ann@example.test', 'Welcome to North Clinic', 1, 'North Clinic', 'hello@north.example',
            'hello@north.example'
        )
    $$,
    'claiming returns what to send, the sender (workspace name by default) and the attempt number'
);

select results_eq(
    $$
        select m.status, m.attempts, m.claimed_at from public.messages as m
        where m.id = (select q.message_id from queued as q)
    $$,
    $$values ('sending', 1, now())$$,
    'the message is now sending'
);

select is_empty(
    $$select * from private.claim_message((select q.message_id from queued as q))$$,
    'a second claim gets nothing'
);

update public.messages set claimed_at = now() - interval '11 minutes'
where id = (select q.message_id from queued as q);

select results_eq(
    $$select c.attempts from private.claim_message((select q.message_id from queued as q)) as c$$,
    $$values (2)$$,
    'a claim older than 10 minutes is taken over (the worker died): attempt 2'
);

select private.record_delivery((select q.message_id from queued as q), 'sent', 'console', 'console-1');

select is_empty(
    $$select * from private.claim_message((select q.message_id from queued as q))$$,
    'a sent message cannot be claimed'
);

select is(
    (
        select m.status from public.messages as m
        where m.id = (select q.skipped_id from queued as q)
    ),
    'skipped',
    'the SMS to a contact without a phone was recorded as skipped'
);

select is_empty(
    $$select * from private.claim_message((select q.skipped_id from queued as q))$$,
    'a skipped message cannot be claimed'
);

select is_empty(
    $$select * from private.claim_message('cccccccc-cccc-cccc-cccc-cccccccccccc')$$,
    'an unknown message gives nothing'
);

select * from finish();
rollback;
