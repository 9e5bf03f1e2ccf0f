begin;
select plan(11);

select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select tests.create_user('22222222-2222-2222-2222-222222222222', 'staff@example.test', 'Sam Staff');
select tests.create_workspace(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'north-clinic', '11111111-1111-1111-1111-111111111111'
);
select tests.add_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '22222222-2222-2222-2222-222222222222');

create temp table before on commit drop as select * from public.message_templates;

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');
select throws_ok(
    $$update public.message_templates set subject = 'Hi' where kind = 'reminder' and channel = 'sms'$$,
    'PT400', 'invalid_template_subject', 'an SMS template with a subject: invalid_template_subject'
);
select throws_ok(
    $$update public.message_templates set subject = ' ' where kind = 'reminder' and channel = 'email'$$,
    'PT400', 'invalid_template_subject', 'an email template with a blank subject: invalid_template_subject'
);
select throws_ok(
    $$update public.message_templates set subject = repeat('s', 201) where kind = 'reminder' and channel = 'email'$$,
    'PT400', 'invalid_template_subject', 'a subject over 200 characters: invalid_template_subject'
);
select throws_ok(
    $$update public.message_templates set body = E'\n \n' where kind = 'reminder' and channel = 'email'$$,
    'PT400', 'invalid_template_body', 'an empty body: invalid_template_body'
);
select throws_ok(
    $$update public.message_templates set body = repeat('b', 1601) where kind = 'reminder' and channel = 'sms'$$,
    'PT400', 'invalid_template_body', 'an SMS body over 1600 characters: invalid_template_body'
);
select throws_ok(
    $$update public.message_templates set body = repeat('b', 10001) where kind = 'reminder' and channel = 'email'$$,
    'PT400', 'invalid_template_body', 'an email body over 10000 characters: invalid_template_body'
);
select throws_ok(
    $$update public.message_templates set kind = 'welcome' where kind = 'reminder' and channel = 'sms'$$,
    '42501', null, 'the kind cannot be changed'
);
select throws_ok(
    $$delete from public.message_templates where kind = 'reminder'$$,
    '42501', null, 'templates cannot be deleted by the frontend'
);

select tests.authenticate_as('22222222-2222-2222-2222-222222222222');
select is(
    tests.affected($$update public.message_templates set body = 'Hello' where kind = 'welcome'$$),
    0,
    'staff cannot edit templates'
);
select is(
    (select count(*)::int from public.message_templates),
    15,
    'staff read their workspace''s templates'
);
select tests.clear_authentication();

select results_eq(
    'select * from public.message_templates order by id',
    'select * from before order by id',
    'nothing was written'
);

select * from finish();
rollback;
