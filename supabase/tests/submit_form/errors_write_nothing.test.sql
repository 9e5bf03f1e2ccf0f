begin;
select plan(24);

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

create temp view written as
select
    s.status,
    s.answers,
    s.completed_at
from public.form_submissions as s
where s.id = 'd0000000-0000-0000-0000-000000000001';
create temp table written_before as select * from written;
grant select on written, written_before to anon;

create function pg_temp.refused(p_answers text, p_code text, p_label text)
returns setof text
language plpgsql
as $fn$
begin
    perform tests.authenticate_as_anon();
    return next throws_ok(
        format('select public.submit_form(%L, %L::jsonb)', 'fresh-token', p_answers),
        'PT400',
        p_code,
        p_label || ': ' || p_code
    );
    perform tests.clear_authentication();
    return next results_eq('select * from written', 'select * from written_before', p_label || ': nothing written');
end
$fn$;

select pg_temp.refused('[1]', 'invalid_answers', 'answers not an object');
select pg_temp.refused(
    '{"allergies": "x", "skin": "Dry", "consent": true, "shoe_size": "42"}',
    'unknown_answer_field',
    'a field the form does not have'
);
select pg_temp.refused('{"skin": "Dry", "consent": true}', 'missing_required_answer', 'a required text missing');
select pg_temp.refused(
    '{"allergies": "   ", "skin": "Dry", "consent": true}', 'missing_required_answer', 'a required text blank'
);
select pg_temp.refused(
    '{"allergies": "x", "skin": "Dry", "consent": false}',
    'missing_required_answer',
    'a required checkbox not ticked'
);
select pg_temp.refused('{"allergies": 42, "skin": "Dry", "consent": true}', 'invalid_answer', 'a number for a text');
select pg_temp.refused('{"allergies": "x", "skin": "Dry", "consent": "yes"}', 'invalid_answer', 'text for a checkbox');
select pg_temp.refused(
    '{"allergies": "a\nb", "skin": "Dry", "consent": true}', 'invalid_answer', 'a line break in a one-line text'
);
select pg_temp.refused(
    '{"allergies": "x", "skin": "Normal", "consent": true}', 'invalid_answer_choice', 'not an option'
);
select pg_temp.refused(
    '{"allergies": "x", "skin": "Dry", "consent": true, "birth_date": "1990-02-30"}',
    'invalid_answer_date',
    'a date that does not exist'
);
select pg_temp.refused(
    '{"allergies": "x", "skin": "Dry", "consent": true, "doctor_email": "nope"}', 'invalid_email', 'not an email'
);
select pg_temp.refused(
    '{"allergies": "x", "skin": "Dry", "consent": true, "doctor_phone": "06 12"}',
    'invalid_phone',
    'not a phone number'
);

select * from finish();
rollback;
