begin;
select plan(8);

select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select tests.create_workspace(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'north-clinic', '11111111-1111-1111-1111-111111111111'
);

select is(
    private.template_placeholders('staff_invitation'),
    array['workspace_name', 'invite_url', 'inviter_name', 'role', 'expires_at_local'],
    'a staff invitation offers the invitation''s placeholders'
);
select is(private.template_placeholders('birthday'), null, 'an unknown kind has none');
select ok(
    not 'manage_url' = any(private.template_placeholders('booking_cancelled')),
    'a cancelled booking has no manage link'
);

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

select is(
    tests.affected($$
        update public.message_templates
        set subject = 'See you {{ starts_at_local }}', body = E'Hi {{contact_name}},\r\nat {{location}}: {{manage_url}}'
        where kind = 'reminder' and channel = 'email'
    $$),
    1,
    'the owner saves a template with its kind''s placeholders (spaces inside the braces allowed)'
);
select results_eq(
    $$select subject, body from public.message_templates where kind = 'reminder' and channel = 'email'$$,
    $$values ('See you {{ starts_at_local }}', E'Hi {{contact_name}},\nat {{location}}: {{manage_url}}')$$,
    'stored with LF line breaks'
);
select throws_ok(
    $$update public.message_templates set body = 'Hi {{contact_name}}, {{invite_url}}' where kind = 'welcome'$$,
    'PT400',
    'unknown_placeholder',
    'a placeholder of another kind: unknown_placeholder'
);
select throws_ok(
    $$update public.message_templates set subject = 'Hi {{first_name}}' where kind = 'welcome' and channel = 'email'$$,
    'PT400',
    'unknown_placeholder',
    'an unknown placeholder in the subject: unknown_placeholder'
);
select throws_ok(
    $$update public.message_templates set body = 'Hi {{contact name}}' where kind = 'welcome'$$,
    'PT400',
    'malformed_placeholder',
    'braces around something that is not a placeholder name: malformed_placeholder'
);

select * from finish();
rollback;
