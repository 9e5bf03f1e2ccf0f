begin;
select plan(10);

select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select tests.create_workspace(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'north-clinic', '11111111-1111-1111-1111-111111111111', 'North Clinic'
);
insert into public.contacts (id, workspace_id, name, email, phone) values
('c0000000-0000-0000-0000-00000000000a', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'Ann Lee', 'ann@example.test', null);

create temp table queued as
select
    private.queue_message('c0000000-0000-0000-0000-00000000000a', 'welcome', 'email', '{}', 'one') as first_id,
    private.queue_message('c0000000-0000-0000-0000-00000000000a', 'reminder', 'email', '{}', 'two') as second_id;

select private.claim_message(first_id) from queued;

select results_eq(
    $$
        select r.status, r.provider, r.provider_message_id, r.sent_at, r.last_error
        from private.record_delivery((select q.first_id from queued as q), 'sent', 'resend', 're_123') as r
    $$,
    $$values ('sent', 'resend', 're_123', now(), null::text)$$,
    'sent: provider, its id and the time are stored'
);

select results_eq(
    $$
        select r.status, r.provider, r.delivered_at
        from private.record_delivery((select q.first_id from queued as q), 'delivered') as r
    $$,
    $$values ('delivered', 'resend', now())$$,
    'delivered later (a provider webhook) keeps the provider'
);

select results_eq(
    $$
        select r.status
        from private.record_delivery((select q.first_id from queued as q), 'failed', p_error => 'late') as r
    $$,
    $$values ('delivered')$$,
    'an outcome that would move a message backwards is ignored'
);

select private.claim_message(second_id) from queued;

select results_eq(
    $$
        select r.status, r.provider, r.last_error, r.attempts
        from private.record_delivery((select q.second_id from queued as q), 'queued', 'resend', null, 'timeout') as r
    $$,
    $$values ('queued', 'resend', 'timeout', 1)$$,
    'queued again to retry: the error is kept'
);

select results_eq(
    $$select c.attempts from private.claim_message((select q.second_id from queued as q)) as c$$,
    $$values (2)$$,
    'the retry claims it again: attempt 2'
);

select is_empty(
    $$select * from public.alerts$$,
    'no alert while retries remain'
);

select results_eq(
    $$
        select r.status, r.failed_at, r.last_error
        from private.record_delivery((select q.second_id from queued as q), 'failed', 'smtp', null, 'mailbox unavailable') as r
    $$,
    $$values ('failed', now(), 'mailbox unavailable')$$,
    'failed after the last attempt'
);

select results_eq(
    $$select a.kind, a.severity, a.subject_type, a.subject_id, a.text from public.alerts as a$$,
    $$
        values (
            'message_failed', 'critical', 'message', (select q.second_id from queued as q),
            'The email reminder to ann@example.test could not be delivered after 2 attempts.'
        )
    $$,
    'a failed message raises one critical alert about it'
);

select throws_ok(
    $$select private.record_delivery((select q.first_id from queued as q), 'lost')$$,
    '22023',
    null,
    'an unknown outcome is refused'
);

select throws_ok(
    $$select private.record_delivery('cccccccc-cccc-cccc-cccc-cccccccccccc', 'sent')$$,
    'PT404',
    'not_found',
    'an unknown message: not_found'
);

select * from finish();
rollback;
