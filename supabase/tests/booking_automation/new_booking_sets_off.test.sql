begin;
select plan(12);

select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select tests.create_workspace(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'north-clinic', '11111111-1111-1111-1111-111111111111', 'North Clinic',
    'Europe/Paris'
);
update public.communication_settings set sms_enabled = true, sms_from_number = '+33612345678'
where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa';
update private.app_settings set value = 'https://app.example.test/'
where key = 'public_base_url';
insert into public.booking_types (id, workspace_id, name, duration_minutes, slot_interval_minutes, location)
values (
    'b0000000-0000-0000-0000-000000000001',
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa',
    'Massage',
    60,
    60,
    '1 Rue de la Paix'
);
insert into public.practitioners (id, workspace_id, user_id)
values (
    '90000000-0000-0000-0000-000000000001',
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa',
    '11111111-1111-1111-1111-111111111111'
)
on conflict (workspace_id, user_id) do update set id = excluded.id;
insert into public.intake_forms (id, workspace_id, name, fields) values
(
    'f0000000-0000-0000-0000-000000000001',
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa',
    'Health questionnaire',
    '[{"key": "allergies", "type": "text", "label": "Allergies"}]'
),
(
    'f0000000-0000-0000-0000-000000000002',
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa',
    'Consent',
    '[{"key": "agree", "type": "checkbox", "label": "I agree", "required": true}]'
),
(
    'f0000000-0000-0000-0000-000000000003',
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa',
    'Old form',
    '[{"key": "x", "type": "text", "label": "X"}]'
);
update public.intake_forms set active = false
where id = 'f0000000-0000-0000-0000-000000000003';
insert into public.booking_type_forms (booking_type_id, form_id, workspace_id) values
(
    'b0000000-0000-0000-0000-000000000001',
    'f0000000-0000-0000-0000-000000000001',
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'
),
(
    'b0000000-0000-0000-0000-000000000001',
    'f0000000-0000-0000-0000-000000000002',
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'
),
(
    'b0000000-0000-0000-0000-000000000001',
    'f0000000-0000-0000-0000-000000000003',
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'
);
delete from pgmq.q_jobs;

-- A new contact with an email only.
insert into public.contacts (id, workspace_id, name, email)
values ('c0000000-0000-0000-0000-00000000000a', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'Ann Lee', 'ann@example.test');
select tests.write_events();

select results_eq(
    $$
        select m.template_kind, m.channel, m.status, m.skip_reason, m.subject
        from public.messages as m order by m.channel
    $$,
    $$
        values
        ('welcome', 'email', 'queued', null::text, 'Welcome to North Clinic'),
        ('welcome', 'sms', 'skipped', 'no_phone_number', null::text)
    $$,
    'a new contact gets a welcome: by email, and an SMS recorded as skipped (no phone)'
);

select is((select count(*)::int from public.conversations), 1, 'the contact''s conversation is created with it');

insert into public.bookings (id, workspace_id, booking_type_id, practitioner_id, contact_id, starts_at, ends_at)
values (
    'b1000000-0000-0000-0000-000000000001', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa',
    'b0000000-0000-0000-0000-000000000001', '90000000-0000-0000-0000-000000000001',
    'c0000000-0000-0000-0000-00000000000a', '2030-07-01 12:00+00', '2030-07-01 13:00+00'
);
select tests.write_events();

select results_eq(
    $$
        select m.channel, m.status, m.subject, m.recipient, m.booking_id
        from public.messages as m where m.template_kind = 'booking_confirmation' order by m.channel
    $$,
    $$
        values
        ('email', 'queued', 'Your Massage on 2030-07-01 14:00 (Europe/Paris)', 'ann@example.test', 'b1000000-0000-0000-0000-000000000001'::uuid),
        ('sms', 'skipped', null, null, 'b1000000-0000-0000-0000-000000000001'::uuid)
    $$,
    'a new booking queues the confirmation, times in the workspace''s zone'
);

select ok(
    (
        select
            m.body like '%with Olive Owner is booked for 2030-07-01 14:00 (Europe/Paris)'
            || ' (until 2030-07-01 15:00 (Europe/Paris)).%Where: 1 Rue de la Paix%'
            || 'https://app.example.test/manage/…%'
        from public.messages as m
        where m.template_kind = 'booking_confirmation' and m.channel = 'email'
    ),
    'the confirmation names the practitioner, the local times, the place and the manage link (no token)'
);

select is((select count(*)::int from public.conversations), 1, 'the conversation is reused');

select results_eq(
    $$
        select f.name, s.status, s.contact_id, s.sent_at
        from public.form_submissions as s join public.intake_forms as f on f.id = s.form_id
        order by f.name
    $$,
    $$
        values
        ('Consent', 'pending', 'c0000000-0000-0000-0000-00000000000a'::uuid, now()),
        ('Health questionnaire', 'pending', 'c0000000-0000-0000-0000-00000000000a'::uuid, now())
    $$,
    'one pending submission per active attached form'
);

select is(
    (
        select count(*)::int from public.messages
        where template_kind = 'form_request' and channel = 'email' and status = 'queued'
    ),
    2,
    'each form is requested by email'
);

-- The stored request holds '/forms/…'; the token whose hash the submission keeps goes in only at
-- delivery (what the claim hands the worker), derived from the submission's nonce.
select ok(
    (
        select
            bool_and(
                m.body like '%https://app.example.test/forms/…%'
                and s.token_hash = private.token_hash(
                    substring(
                        private.with_booking_tokens(m.body, null, null, private.derived_token(s.id, s.token_nonce))
                        from 'https://app\.example\.test/forms/([A-Za-z0-9_-]+)'
                    )
                )
            )
        from public.messages as m
        inner join public.form_submissions as s on m.form_submission_id = s.id
        where m.channel = 'email'
    ),
    'each request carries the fill-in link; its token is stored nowhere and rebuilt at delivery'
);

select is(
    (
        select count(*)::int from public.form_submissions
        where token_hash is null
    ),
    0,
    'no submission without a token hash'
);

select is(
    (select count(*)::int from pgmq.q_jobs),
    (
        select count(*)::int from public.messages
        where status = 'queued'
    ),
    'one delivery job per queued message'
);

select is(
    (
        select count(*)::int from pgmq.q_jobs as q
        where
            q.message -> 'payload' <> jsonb_build_object('message_id', q.message -> 'payload' ->> 'message_id')
            or q.message ->> 'kind' <> 'deliver_message'
    ),
    0,
    'jobs carry the message id and nothing else'
);

insert into public.bookings (
    id, workspace_id, booking_type_id, practitioner_id, contact_id, starts_at, ends_at, status, cancelled_at
)
values (
    'b1000000-0000-0000-0000-000000000002', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa',
    'b0000000-0000-0000-0000-000000000001', '90000000-0000-0000-0000-000000000001',
    'c0000000-0000-0000-0000-00000000000a', '2030-07-02 12:00+00', '2030-07-02 13:00+00', 'cancelled', now()
);
select tests.write_events();

select is(
    (
        select count(*)::int from public.messages
        where booking_id = 'b1000000-0000-0000-0000-000000000002'
    ),
    0,
    'a booking written as cancelled sets nothing off'
);

select * from finish();
rollback;
