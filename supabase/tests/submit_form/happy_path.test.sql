begin;
select plan(8);

select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select tests.create_user('33333333-3333-3333-3333-333333333333', 'south@example.test', 'Sol South');
select tests.create_workspace(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'north-clinic', '11111111-1111-1111-1111-111111111111', 'North Clinic'
);
insert into public.booking_types (id, workspace_id, name, duration_minutes)
values ('b0000000-0000-0000-0000-000000000001', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'Massage', 30);
insert into public.intake_forms (id, workspace_id, name, fields) values (
    'f0000000-0000-0000-0000-000000000001', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'Health questionnaire',
    '[
        {"key": "allergies", "type": "text", "label": "Allergies", "required": true},
        {"key": "history", "type": "long_text", "label": "History"},
        {"key": "skin", "type": "choice", "label": "Skin type", "options": ["Dry", "Oily"], "required": true},
        {"key": "consent", "type": "checkbox", "label": "I agree", "required": true},
        {"key": "birth_date", "type": "date", "label": "Date of birth"},
        {"key": "doctor_email", "type": "email", "label": "Doctor email"},
        {"key": "doctor_phone", "type": "phone", "label": "Doctor phone"}
    ]'
);
insert into public.contacts (id, workspace_id, name, email)
values ('c0000000-0000-0000-0000-00000000000a', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'Ann Lee', 'ann@example.test');
insert into public.bookings (id, workspace_id, booking_type_id, practitioner_id, contact_id, starts_at, ends_at)
values (
    'b1000000-0000-0000-0000-000000000001', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa',
    'b0000000-0000-0000-0000-000000000001',
    (
        select p.id from public.practitioners as p
        where p.workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'
    ),
    'c0000000-0000-0000-0000-00000000000a', '2030-07-01 12:00+00', '2030-07-01 12:30+00'
);
-- A pending submission whose link token is known.
insert into public.form_submissions (id, workspace_id, form_id, booking_id, contact_id, token_hash, sent_at) values
(
    'd0000000-0000-0000-0000-000000000001', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa',
    'f0000000-0000-0000-0000-000000000001', 'b1000000-0000-0000-0000-000000000001',
    'c0000000-0000-0000-0000-00000000000a', private.token_hash('fresh-token'), now()
);

select tests.authenticate_as_anon();

select results_eq(
    $$
        select status, form_name, workspace_name, contact_name, booking_starts_at
        from public.get_form(p_token => 'fresh-token')
    $$,
    $$values ('pending', 'Health questionnaire', 'North Clinic', 'Ann Lee', '2030-07-01 12:00+00'::timestamptz)$$,
    'anon gets the form to fill by its token: names and the visit'
);

select is(
    (select jsonb_array_length(fields) from public.get_form('fresh-token')),
    7,
    'with its fields'
);

select results_eq(
    $$
        select status, completed_at from public.submit_form(
            p_token => 'fresh-token',
            p_answers => '{"allergies": "  Pollen ", "skin": "Dry", "consent": true, "birth_date": "1990-02-03",
                           "doctor_email": " Doc@Example.TEST", "doctor_phone": "+33 6 12 34 56 78", "history": ""}'
        )
    $$,
    $$values ('completed', now())$$,
    'anon submits valid answers: completed'
);

select tests.clear_authentication();

select results_eq(
    $$
        select status, completed_at, answers from public.form_submissions
        where id = 'd0000000-0000-0000-0000-000000000001'
    $$,
    $$
        values (
            'completed', now(),
            '{"allergies": "Pollen", "skin": "Dry", "consent": true, "birth_date": "1990-02-03",
              "doctor_email": "doc@example.test", "doctor_phone": "+33612345678"}'::jsonb
        )
    $$,
    'the answers are stored normalised (trimmed, lower-case email, E.164 phone, blank left out)'
);

select tests.authenticate_as_anon();

select throws_ok(
    $$select public.submit_form('fresh-token', '{"allergies": "None", "skin": "Oily", "consent": true}')$$,
    'PT409',
    'form_already_submitted',
    'a second submit: form_already_submitted'
);

select is(
    (select status from public.get_form('fresh-token')),
    'completed',
    'get_form tells a completed form'
);

select tests.clear_authentication();

select is(
    (
        select answers ->> 'allergies' from public.form_submissions
        where id = 'd0000000-0000-0000-0000-000000000001'
    ),
    'Pollen',
    'the first answers stay'
);

-- An overdue form can still be completed, and its alert resolves.
update public.form_submissions set
    status = 'pending', completed_at = null, answers = null, sent_at = now() - interval '3 days'
where id = 'd0000000-0000-0000-0000-000000000001';
select private.mark_overdue_forms();
select tests.authenticate_as_anon();
select public.submit_form('fresh-token', '{"allergies": "None", "skin": "Oily", "consent": true}');
select tests.clear_authentication();

select results_eq(
    $$
        select s.status, a.resolved_at from public.form_submissions as s
        join public.alerts as a on a.subject_id = s.id
        where s.id = 'd0000000-0000-0000-0000-000000000001'
    $$,
    $$values ('completed', now())$$,
    'an overdue form is completed late and its overdue alert resolves'
);

select * from finish();
rollback;
