begin;
select plan(10);

select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select tests.create_user('22222222-2222-2222-2222-222222222222', 'staff@example.test', 'Sam Staff');
select tests.create_user('33333333-3333-3333-3333-333333333333', 'out@example.test', 'Otto Outsider');
select tests.create_workspace(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'north-clinic', '11111111-1111-1111-1111-111111111111', 'North Clinic'
);
select tests.add_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '22222222-2222-2222-2222-222222222222', 'staff');
insert into public.contacts (id, workspace_id, name, email) values
('c0000000-0000-0000-0000-00000000000a', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'Ann Lee', 'ann@example.test');
select tests.write_events();

-- Three messages: two failed (after 5 attempts), one sent.
insert into public.messages (
    id, workspace_id, conversation_id, direction, channel, kind, body, recipient, status, idempotency_key,
    attempts, claimed_at
) values
(
    'd0000000-0000-0000-0000-000000000001', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa',
    (
        select v.id from public.conversations as v
        where v.contact_id = 'c0000000-0000-0000-0000-00000000000a'
    ),
    'outbound', 'email', 'manual', 'Hello', 'ann@example.test', 'sending', 'manual:1', 5, now()
),
(
    'd0000000-0000-0000-0000-000000000002', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa',
    (
        select v.id from public.conversations as v
        where v.contact_id = 'c0000000-0000-0000-0000-00000000000a'
    ),
    'outbound', 'email', 'manual', 'Hello', 'ann@example.test', 'sending', 'manual:2', 5, now()
),
(
    'd0000000-0000-0000-0000-000000000003', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa',
    (
        select v.id from public.conversations as v
        where v.contact_id = 'c0000000-0000-0000-0000-00000000000a'
    ),
    'outbound', 'email', 'manual', 'Hello', 'ann@example.test', 'sending', 'manual:3', 5, now()
);
select private.record_delivery('d0000000-0000-0000-0000-000000000001', 'failed', 'resend', null, 'resend: 500');
select private.record_delivery('d0000000-0000-0000-0000-000000000002', 'failed', 'resend', null, 'resend: 500');
select private.record_delivery('d0000000-0000-0000-0000-000000000003', 'sent', 'resend', 're-1');

create temp table jobs_before as select count(*) as n from pgmq.q_jobs;
grant select on jobs_before to authenticated;

select tests.authenticate_as('22222222-2222-2222-2222-222222222222');
select is(
    tests.caught($$select public.retry_failed_messages('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa')$$) ->> 'message',
    'forbidden',
    'staff may not requeue'
);
select tests.authenticate_as('33333333-3333-3333-3333-333333333333');
select is(
    tests.caught($$select public.retry_failed_messages('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa')$$) ->> 'message',
    'not_found',
    'an outsider does not learn the workspace exists'
);
select tests.authenticate_without_user();
select is(
    tests.caught($$select public.retry_failed_messages('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa')$$) ->> 'message',
    'not_authenticated',
    'a JWT without a user is refused'
);
select tests.clear_authentication();

select is(
    (
        select count(*) from public.messages
        where status = 'failed'
    )::integer, 2, 'refusals changed nothing'
);

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');
select is(
    public.retry_failed_messages(
        'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa',
        array['d0000000-0000-0000-0000-000000000001', 'd0000000-0000-0000-0000-000000000003']::uuid[]
    ),
    1,
    'the owner requeues the failed one of the ids given (a sent one is ignored)'
);
select is(public.retry_failed_messages('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'), 1, 'then every failed one left');
select is(public.retry_failed_messages('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'), 0, 'and nothing twice');
select tests.clear_authentication();

select results_eq(
    $$
        select m.status, m.attempts, m.last_error, m.failed_at is null from public.messages as m
        where m.id in ('d0000000-0000-0000-0000-000000000001', 'd0000000-0000-0000-0000-000000000002')
    $$,
    $$values ('queued', 0, 'resend: 500', true), ('queued', 0, 'resend: 500', true)$$,
    'requeued: queued, attempts reset, the last error kept'
);

select is(
    (select count(*) from pgmq.q_jobs)::integer - (select n from jobs_before)::integer,
    2,
    'one deliver_message job each'
);

select is(
    (
        select count(*) from public.alerts
        where
            kind = 'message_failed' and resolved_at is not null and resolved_by = '11111111-1111-1111-1111-111111111111'
    )::integer,
    2,
    'their message_failed alerts are resolved by the owner'
);

select * from finish();
rollback;
