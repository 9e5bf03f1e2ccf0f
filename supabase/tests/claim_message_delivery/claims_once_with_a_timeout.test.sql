begin;
select plan(9);

select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select tests.create_workspace(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'north-clinic', '11111111-1111-1111-1111-111111111111', 'North Clinic'
);
update public.communication_settings
set sender_email = 'hello@north.example', sender_name = null
where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa';
-- The platform verified the workspace's sending domain (private.workspace_senders).
insert into public.sender_identities (workspace_id, kind, value, status)
values ('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'email_domain', 'north.example', 'verified');
insert into public.contacts (id, workspace_id, name, email) values
('c0000000-0000-0000-0000-00000000000a', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'Ann Lee', 'ann@example.test');

create temp table queued as
select private.queue_message(
    'c0000000-0000-0000-0000-00000000000a', 'welcome', 'email',
    '{"contact_name": "Ann Lee", "workspace_name": "North Clinic"}', 'welcome:ann:email'
) as message_id;

select results_eq(
    $$
        select c.claimed, c.status, c.retry_in_seconds, c.recipient, c.attempts, c.sender_name, c.reply_to_email,
            c.idempotency_key
        from private.claim_message_delivery((select q.message_id from queued as q), interval '60 seconds') as c
    $$,
    $$
        values (
            true, 'sending', null::integer, 'ann@example.test', 1, 'North Clinic', 'hello@north.example',
            'welcome:ann:email'
        )
    $$,
    'claiming returns what to send, with the attempt number and the key'
);

select results_eq(
    $$
        select m.status, m.attempts, m.claimed_at from public.messages as m
        where m.id = (select q.message_id from queued as q)
    $$,
    $$values ('sending', 1, now())$$,
    'the message is sending'
);

update public.messages set claimed_at = now() - interval '20 seconds'
where id = (select q.message_id from queued as q);

select results_eq(
    $$
        select c.claimed, c.status, c.retry_in_seconds, c.recipient, c.attempts
        from private.claim_message_delivery((select q.message_id from queued as q), interval '60 seconds') as c
    $$,
    $$values (false, 'sending', 40, null::text, 1)$$,
    'a live claim is not taken: the state, and when that claim times out'
);

select results_eq(
    $$
        select c.claimed, c.attempts
        from private.claim_message_delivery((select q.message_id from queued as q), interval '15 seconds') as c
    $$,
    $$values (true, 2)$$,
    'a claim older than the time-out is taken over: attempt 2'
);

select private.record_delivery((select q.message_id from queued as q), 'sent', 'console', 'console-1');

select results_eq(
    $$
        select c.claimed, c.status, c.retry_in_seconds
        from private.claim_message_delivery((select q.message_id from queued as q), interval '0 seconds') as c
    $$,
    $$values (false, 'sent', null::integer)$$,
    'a sent message is never claimed again, whatever the time-out'
);

select is_empty(
    $$select * from private.claim_message_delivery(gen_random_uuid(), interval '60 seconds')$$,
    'a message that is gone: no row'
);

-- A manual message (the inbox queues those) has no template and no booking.
insert into public.messages (
    id, workspace_id, conversation_id, direction, channel, kind, body, recipient, status, idempotency_key
) values (
    'd0000000-0000-0000-0000-00000000000d', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa',
    (
        select v.id from public.conversations as v
        where v.contact_id = 'c0000000-0000-0000-0000-00000000000a'
    ),
    'outbound', 'email', 'manual', 'Hello', 'ann@example.test', 'queued', 'manual:1'
);

select results_eq(
    $$
        select c.claimed, c.status
        from private.claim_message_delivery('d0000000-0000-0000-0000-00000000000d', interval '60 seconds') as c
    $$,
    $$values (true, 'sending')$$,
    'a manual message (no booking) is claimed like any other'
);

select tests.authenticate_as_service_role();
select is(
    tests.caught($$select private.claim_message_delivery(gen_random_uuid(), interval '1 minute')$$),
    null,
    'the worker may call it (service_role)'
);
select tests.authenticate_as('11111111-1111-1111-1111-111111111111');
select is(
    tests.caught($$select private.claim_message_delivery(gen_random_uuid(), interval '1 minute')$$) ->> 'sqlstate',
    '42501',
    'members may not'
);
select tests.clear_authentication();

select * from finish();
rollback;
