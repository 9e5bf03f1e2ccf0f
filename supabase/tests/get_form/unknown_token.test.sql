begin;
select plan(4);

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

select
    throws_ok(
        $$select * from public.get_form('no-such-token')$$,
        'PT404',
        'form_not_found',
        'an unknown token: form_not_found'
    );
select throws_ok($$select * from public.get_form(null)$$, 'PT404', 'form_not_found', 'no token: form_not_found');
select throws_ok(
    $$select * from public.submit_form('no-such-token', '{}')$$,
    'PT404',
    'form_not_found',
    'submitting with an unknown token: form_not_found'
);
select throws_ok($$select * from public.form_submissions$$, '42501', null, 'anon reads no submission directly');

select * from finish();
rollback;
