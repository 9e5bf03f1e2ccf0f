begin;
select plan(11);

select is(
    private.render_template(
        'Hello {{contact_name}}, see you on {{starts_at}} at {{workspace_name}}.',
        '{"contact_name": "Ann Lee", "starts_at": "2026-12-01 14:30 (Europe/Paris)", "workspace_name": "North Clinic"}'
    ),
    'Hello Ann Lee, see you on 2026-12-01 14:30 (Europe/Paris) at North Clinic.',
    'every placeholder is filled from the values'
);

select is(
    private.render_template('{{a}}{{b}}{{a}}', '{"a": "1", "b": "2"}'),
    '121',
    'adjacent and repeated placeholders, at both ends'
);

select is(
    private.render_template('Hi {{ contact_name }}!', '{"contact_name": "Bo"}'),
    'Hi Bo!',
    'blanks inside the braces are allowed'
);

select is(
    private.render_template(
        'Dear {{contact_name}}: {{manage_link}}',
        '{"contact_name": "{{manage_link}}", "manage_link": "https://x.test/m/secret"}'
    ),
    'Dear {{manage_link}}: https://x.test/m/secret',
    'a value is never rendered again (one pass): a name cannot pull in another value'
);

select is(
    private.render_template('With {{practitioner_name}}.', '{}'),
    'With .',
    'a placeholder without a value renders as empty text'
);

select is(
    private.render_template('Count: {{n}}', '{"n": 3}'),
    'Count: 3',
    'non-text values render as their text'
);

select is(
    private.render_template('No placeholders here { {x} } {{X}} {{1a}}', '{"x": "no"}'),
    'No placeholders here { {x} } {{X}} {{1a}}',
    'text that is not a placeholder stays as it is'
);

select is(private.render_template('', '{}'), '', 'an empty template renders as empty text');
select is(private.render_template(null, '{}'), null, 'a null template renders as null');
select is(
    private.render_template(E'Line 1\n{{a}}\nLine 3', '{"a": "two"}'),
    E'Line 1\ntwo\nLine 3',
    'line breaks in a body are kept'
);

select is(
    private.format_local_time('2026-07-01 12:30:00+00', 'Europe/Paris'),
    '2026-07-01 14:30 (Europe/Paris)',
    'times are shown on the workspace''s wall clock with the zone named'
);

select * from finish();
rollback;
