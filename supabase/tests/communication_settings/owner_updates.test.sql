begin;
select plan(5);

select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select tests.create_user('22222222-2222-2222-2222-222222222222', 'staff@example.test', 'Sam Staff');
select tests.create_user('33333333-3333-3333-3333-333333333333', 'south@example.test', 'Sol South');
select tests.create_workspace(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'north-clinic', '11111111-1111-1111-1111-111111111111'
);
select tests.create_workspace(
    'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb', 'south-salon', '33333333-3333-3333-3333-333333333333'
);
select tests.add_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '22222222-2222-2222-2222-222222222222');

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');
select is(
    tests.affected($$
        update public.communication_settings
        set sender_name = ' North Clinic ', sender_email = 'Hello@North.TEST', reply_to_email = '  ',
            sms_enabled = true, sms_from_number = '0033 6 12 34 56 78'
        where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'
    $$),
    1,
    'the owner updates the settings'
);
select is(
    tests.affected($$
        update public.communication_settings set sms_enabled = true
        where workspace_id = 'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb'
    $$),
    0,
    'another workspace''s settings are out of reach'
);

select tests.authenticate_as('22222222-2222-2222-2222-222222222222');
select is(
    tests.affected($$
        update public.communication_settings set email_enabled = false
        where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'
    $$),
    0,
    'staff cannot change them'
);
select results_eq(
    $$select sender_email from public.communication_settings$$,
    $$values ('hello@north.test')$$,
    'staff read their own workspace''s settings only'
);
select tests.clear_authentication();

select results_eq(
    $$
        select sender_name, sender_email, reply_to_email, sms_enabled, sms_from_number, email_enabled
        from public.communication_settings where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'
    $$,
    $$values ('North Clinic', 'hello@north.test', null::text, true, '+33612345678', true)$$,
    'names trimmed, emails lower-cased, a blank reply-to is none, the SMS number in E.164'
);

select * from finish();
rollback;
