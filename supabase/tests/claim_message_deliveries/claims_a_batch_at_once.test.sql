begin;
select plan(8);

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

-- fresh: queued; done: already sent; live: another worker claimed it 20 s ago; stale: 40 s ago.
create temp table batch as
select
    private.queue_message('c0000000-0000-0000-0000-00000000000a', 'welcome', 'email', '{}', 'fresh') as fresh,
    private.queue_message('c0000000-0000-0000-0000-00000000000a', 'reminder', 'email', '{}', 'done') as done,
    'e0000000-0000-0000-0000-00000000000e'::uuid as live,
    'f0000000-0000-0000-0000-00000000000f'::uuid as stale,
    gen_random_uuid() as gone;
insert into public.messages (
    id, workspace_id, conversation_id, direction, channel, kind, body, recipient, status, idempotency_key
)
select
    v.id,
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa' as workspace_id,
    c.id as conversation_id,
    'outbound' as direction,
    'email' as channel,
    'manual' as kind,
    'Hello' as body,
    'ann@example.test' as recipient,
    'queued' as status,
    v.key
from (values ('e0000000-0000-0000-0000-00000000000e'::uuid, 'live'), ('f0000000-0000-0000-0000-00000000000f', 'stale'))
    as v (id, key)
cross join public.conversations as c
where c.contact_id = 'c0000000-0000-0000-0000-00000000000a';
update public.messages set status = 'sent', attempts = 1
where id = (select b.done from batch as b);
update public.messages set status = 'sending', attempts = 1, claimed_at = now() - interval '20 seconds'
where id = (select b.live from batch as b);
update public.messages set status = 'sending', attempts = 1, claimed_at = now() - interval '40 seconds'
where id = (select b.stale from batch as b);

create temp table claims as
select c.*
from private.claim_message_deliveries(
    (select array[b.fresh, b.done, b.live, b.stale, b.gone] from batch as b), interval '30 seconds'
) as c;

select results_eq(
    $$
        select c.claimed, c.status, c.retry_in_seconds, c.attempts, c.recipient is not null, c.idempotency_key
        from claims as c order by c.idempotency_key
    $$,
    $$
        values
        (false, 'sent', null::integer, 1, false, 'done'),
        (true, 'sending', null::integer, 1, true, 'fresh'),
        (false, 'sending', 10, 1, false, 'live'),
        (true, 'sending', null::integer, 2, true, 'stale')
    $$,
    'one call: the queued and the stale rows are claimed, the others say why not, the gone one has no row'
);

select results_eq(
    $$
        select c.sender_name, c.sender_email, c.reply_to_email, c.subject is not null
        from claims as c where c.idempotency_key = 'fresh'
    $$,
    $$values ('North Clinic', 'hello@north.example', 'hello@north.example', true)$$,
    'a claimed row carries what to send and the workspace''s sender'
);

select results_eq(
    $$
        select m.idempotency_key, m.status, m.attempts, coalesce(m.claimed_at = now(), false)
        from public.messages as m
        where m.id in (select unnest(array[b.fresh, b.done, b.live, b.stale]) from batch as b)
        order by m.idempotency_key
    $$,
    $$
        values
        ('done', 'sent', 1, false),
        ('fresh', 'sending', 1, true),
        ('live', 'sending', 1, false),
        ('stale', 'sending', 2, true)
    $$,
    'the claimed rows are sending with this claim; the others are untouched'
);

-- As if that claim had committed a second ago (a worker's next claim is another transaction).
update public.messages set claimed_at = claimed_at - interval '1 second'
where id in (select unnest(array[b.fresh, b.stale]) from batch as b);

select results_eq(
    $$
        select c.claimed, count(*)::integer, min(c.retry_in_seconds)
        from private.claim_message_deliveries(
            (select array[b.fresh, b.stale] from batch as b), interval '30 seconds'
        ) as c
        group by c.claimed
    $$,
    $$values (false, 2, 29)$$,
    'claiming again finds live claims: nothing is claimed twice'
);

select is_empty(
    $$select * from private.claim_message_deliveries('{}', interval '30 seconds')$$,
    'an empty batch claims nothing'
);

-- Inbound messages are never claimed.
insert into public.messages (
    id, workspace_id, conversation_id, direction, channel, kind, body, status, idempotency_key
) values (
    'd0000000-0000-0000-0000-00000000000d', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa',
    (
        select v.id from public.conversations as v
        where v.contact_id = 'c0000000-0000-0000-0000-00000000000a'
    ),
    'inbound', 'sms', 'manual', 'Hi', 'received', 'inbound:1'
);
select results_eq(
    $$
        select c.claimed, c.status
        from private.claim_message_deliveries('{d0000000-0000-0000-0000-00000000000d}', interval '30 seconds') as c
    $$,
    $$values (false, 'received')$$,
    'an inbound message is not claimed'
);

select tests.authenticate_as_service_role();
select is(
    tests.caught($$select private.claim_message_deliveries(array[gen_random_uuid()], interval '1 minute')$$),
    null,
    'the worker may call it (service_role)'
);
select tests.authenticate_as('11111111-1111-1111-1111-111111111111');
select is(
    tests.caught(
        $$select private.claim_message_deliveries(array[gen_random_uuid()], interval '1 minute')$$
    ) ->> 'sqlstate',
    '42501',
    'members may not'
);
select tests.clear_authentication();

select * from finish();
rollback;
