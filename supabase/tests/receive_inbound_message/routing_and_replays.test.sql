begin;
select plan(12);

select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select tests.create_workspace(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'north-clinic', '11111111-1111-1111-1111-111111111111', 'North Clinic'
);
update public.communication_settings
set sms_enabled = true, sms_from_number = '+33612345678', sender_email = 'desk@north.example.test'
where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa';
-- Inbound is routed to the active workspace holding the verified number or address.
update public.workspaces set status = 'active'
where id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa';
insert into public.sender_identities (workspace_id, kind, value, status) values
('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'sms_number', '+33612345678', 'verified'),
('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'inbound_address', 'desk@north.example.test', 'verified');
insert into public.contacts (id, workspace_id, name, email, phone) values
(
    'c0000000-0000-0000-0000-00000000000a',
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa',
    'Ann Lee',
    'ann@example.test',
    '+33611111111'
);

create temp view written as
select
    (select count(*)::int from public.webhook_events) as events,
    (select count(*)::int from public.contacts) as contacts,
    (select count(*)::int from public.messages) as messages,
    (select sum(unread_count)::int from public.conversations) as unread;

select is(
    private.receive_inbound_message('twilio', 'SM1', 'sms', '+33 6 11 11 11 11', array['+33612345678'], null, 'Hi')
    ->> 'outcome',
    'received',
    'an SMS to the workspace''s number from a known phone is received'
);
select results_eq(
    $$
        select m.direction, m.status, m.body, m.recipient, c.contact_id, c.unread_count
        from public.messages as m inner join public.conversations as c on m.conversation_id = c.id
        where m.direction = 'inbound'
    $$,
    $$values ('inbound', 'received', 'Hi', '+33611111111', 'c0000000-0000-0000-0000-00000000000a'::uuid, 1)$$,
    'it joins the known contact''s conversation (phone normalised) and counts as unread'
);

create temp table written_before as select * from written;
select is(
    private.receive_inbound_message('twilio', 'SM1', 'sms', '+33611111111', array['+33612345678'], null, 'Hi')
    ->> 'outcome',
    'duplicate',
    'the same message SID again: duplicate'
);
select results_eq('select * from written', 'select * from written_before', 'and nothing is written');

select is(
    private.receive_inbound_message(
        'resend', 'msg_1', 'email', 'NEW@Example.test', array['someone@else.test', 'Desk@North.Example.Test'],
        'Hello', 'Do you open on Sundays?', 'Nia Obi'
    ) ->> 'outcome',
    'received',
    'an email to one of the workspace''s addresses from a stranger is received'
);
select results_eq(
    $$select name, email, phone, source from public.contacts where email = 'new@example.test'$$,
    $$values ('Nia Obi', 'new@example.test', null::text, 'inbound')$$,
    'the stranger becomes a contact with source inbound, named from the email'
);
select is_empty(
    $$
        select 1 from public.messages as m
        inner join public.contacts as c on m.workspace_id = c.workspace_id and m.recipient = c.email
        where c.email = 'new@example.test' and m.direction = 'outbound'
    $$,
    'and gets no welcome message'
);

select is(
    private.receive_inbound_message('twilio', 'SM2', 'sms', '+33699999999', array['+15005550006'], null, 'Hi')
    ->> 'outcome',
    'unroutable',
    'an SMS to a number no workspace uses: unroutable'
);
select results_eq(
    $$
        select e.outcome, e.workspace_id, u.sender, u.recipients, u.body
        from public.webhook_events as e inner join public.unroutable_messages as u using (provider, event_id)
        where e.event_id = 'SM2'
    $$,
    $$values ('unroutable', null::uuid, '+33699999999', array['+15005550006'], 'Hi')$$,
    'recorded as unroutable and kept for operators, no contact and no message'
);

select is(
    private.record_delivery_event('msg_2', 'email.delivered', 're_unknown') ->> 'outcome',
    'unknown_message',
    'a delivery event for a message we never sent: unknown_message'
);
select results_eq(
    $$select outcome from public.webhook_events where event_id = 'msg_2'$$,
    $$values ('unknown_message')$$,
    'acknowledged and recorded'
);

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');
select throws_ok(
    $$
        select private.receive_inbound_message(
            'twilio', 'SM3', 'sms', '+33611111111', array['+33612345678'], null, 'x'
        )
    $$,
    '42501', null, 'members cannot call the webhook functions'
);
select tests.clear_authentication();

select * from finish();
rollback;
