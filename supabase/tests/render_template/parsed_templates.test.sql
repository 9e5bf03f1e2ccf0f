begin;
select plan(31);

-- Templates are parsed once (private.template_format, private.template_placeholder_names, kept in
-- message_templates' generated columns) and filled with one format() call by
-- private.queue_messages. The fill below is the expression queue_messages uses; every case must
-- give private.render_template's text byte for byte.
create function pg_temp.fill(p_text text, p_values jsonb)
returns text
language sql
as $$
    select pg_catalog.format(
        private.template_format(p_text),
        variadic array(
            select p_values ->> n.name
            from unnest(private.template_placeholder_names(p_text)) with ordinality as n (name, ordinal)
            order by n.ordinal
        )
    );
$$;

-- The parsed form.
select is(private.template_format('Hi {{a}}!'), 'Hi %1$s!', 'a placeholder becomes a positional %s');
select is(
    private.template_placeholder_names('Hi {{a}}, {{ b }} and {{a}}'),
    array['a', 'b', 'a'],
    'placeholder names in order, repeats included, blanks trimmed'
);
select is(private.template_format('100% {{a}}'), '100%% %1$s', 'a literal % is doubled');
select is(private.template_format(null), null, 'a null text has a null format');
select is(private.template_placeholder_names(null), null, 'a null text has no names');
select is(private.template_placeholder_names('no placeholders'), '{}'::text[], 'a text without placeholders has none');

-- Filling, against render_template.
create temp table cases (template_text text, template_values jsonb, expected text, description text);
insert into cases values
(
    '{{a}} in the middle {{b}}',
    '{"a": "start", "b": "end"}',
    'start in the middle end',
    'placeholders at the start and the end'
),
('{{a}}{{b}}{{a}}', '{"a": "1", "b": "2"}', '121', 'adjacent and repeated placeholders'),
('With {{unknown}}.', '{"a": "1"}', 'With .', 'a name without a value renders as empty text'),
(
    'Dear {{contact_name}}: {{manage_link}}',
    '{"contact_name": "{{manage_link}}", "manage_link": "https://x.test/m/secret"}',
    'Dear {{manage_link}}: https://x.test/m/secret',
    'a value containing {{x}} is never rendered again'
),
('Hi {{ contact_name }}!', '{"contact_name": "Bo"}', 'Hi Bo!', 'blanks inside the braces'),
(E'Hi {{\tcontact_name\n}}!', '{"contact_name": "Bo"}', 'Hi Bo!', 'tabs and line breaks inside the braces'),
('Plain text, 100% sure.', '{"a": "1"}', 'Plain text, 100% sure.', 'no placeholders, with a percent sign'),
(
    '%s %1$s %% {{a}} %',
    '{"a": "%s %2$s %%"}',
    '%s %1$s %% %s %2$s %% %',
    'format codes in the text and in a value stay text'
),
(
    'No placeholders here { {x} } {{X}} {{1a}}',
    '{"x": "no"}',
    'No placeholders here { {x} } {{X}} {{1a}}',
    'text that is not a placeholder stays'
),
('{{{a}}}', '{"a": "1"}', '{1}', 'a placeholder inside extra braces'),
('Count: {{n}}', '{"n": 3}', 'Count: 3', 'non-text values render as their text'),
('Count: {{n}}', null, 'Count: ', 'null values render every placeholder empty'),
('', '{}', '', 'an empty text'),
(E'Line 1\n{{a}}\nLine 3', '{"a": "two"}', E'Line 1\ntwo\nLine 3', 'line breaks in a body are kept');

select is(pg_temp.fill(c.template_text, c.template_values), c.expected, 'parsed: ' || c.description)
from cases as c;

select is(
    (
        select count(*) from cases as c
        where private.render_template(c.template_text, c.template_values) is distinct from c.expected
    ),
    0::bigint,
    'render_template gives the same text in every case'
);

select is(pg_temp.fill(null, '{}'), null, 'a null text fills to null');

-- Every default template, with awkward values, the same as render_template.
select is(
    (
        select count(*)
        from private.default_message_templates() as d
        cross join (
            values
            (
                jsonb_build_object(
                    'contact_name', 'Ann {{workspace_name}} 100% %s',
                    'workspace_name', 'North %1$s Clinic',
                    'booking_type_name', 'Massage',
                    'practitioner_name', E'Dr\nWho',
                    'starts_at_local', '2026-12-01 14:30 (Europe/Paris)',
                    'ends_at_local', '2026-12-01 15:00 (Europe/Paris)',
                    'location', '',
                    'manage_url', 'https://x.test/manage/abc',
                    'form_name', 'Intake', 'form_url', 'https://x.test/forms/t',
                    'item_name', 'Oil', 'quantity', 2, 'unit', 'l', 'threshold', 5,
                    'inviter_name',
                    'Olive',
                    'role',
                    'staff',
                    'invite_url',
                    'https://x.test/i',
                    'expires_at_local',
                    'soon'
                )
            ),
            ('{}'::jsonb)
        ) as v (template_values)
        where
            pg_temp.fill(d.subject, v.template_values) is distinct from private.render_template(
                d.subject, v.template_values
            )
            or pg_temp.fill(d.body, v.template_values) is distinct from private.render_template(
                d.body, v.template_values
            )
    ),
    0::bigint,
    'every default subject and body renders the same as render_template'
);

-- 2,000 random texts of placeholder pieces, stray braces, blanks and format codes (seeded).
select setseed(0.42);
create temp table random_texts as
select (
    select string_agg(q.pieces[1 + floor(random() * cardinality(q.pieces))::integer], '')
    from generate_series(1, 1 + (g.n % 25)) as k (n)
    cross join (
        select array[
            '{{', '}}', ' ', 'a', 'b', 'x_1', '%', '$', 's', 'Z', '{', '}', E'\n', E'\t', '1',
            '{{a}}', '{{ b }}', '%1$s', '{{c}}'
        ] as pieces
    ) as q
    where g.n > -k.n
) as template_text
from generate_series(1, 2000) as g (n);

select is(
    (
        select count(*) from random_texts as t
        where
            pg_temp.fill(t.template_text, '{"a": "{{b}} %s", "b": "%%", "x_1": "X"}')
            is distinct from private.render_template(t.template_text, '{"a": "{{b}} %s", "b": "%%", "x_1": "X"}')
    ),
    0::bigint,
    '2,000 random texts render the same as render_template'
);

-- The generated columns follow the text, and queue_messages renders from them.
select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select tests.create_workspace(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'north-clinic', '11111111-1111-1111-1111-111111111111', 'North Clinic'
);
insert into public.contacts (id, workspace_id, name, email) values
('c0000000-0000-0000-0000-00000000000a', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'Ann Lee', 'ann@example.test');

select results_eq(
    $$
        select t.subject_format, t.subject_placeholders, t.body_placeholders
        from public.message_templates as t
        where t.workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa' and t.kind = 'welcome' and t.channel = 'email'
    $$,
    $$values ('Welcome to %1$s', array['workspace_name'], array['contact_name', 'workspace_name', 'workspace_name'])$$,
    'a workspace''s default templates carry their parsed form'
);

-- As the owner would, through the update grant on subject and body.
select tests.authenticate_as('11111111-1111-1111-1111-111111111111');
update public.message_templates
set subject = '  100% for {{ contact_name }} ', body = '{{contact_name}}{{workspace_name}} at 50%'
where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa' and kind = 'welcome' and channel = 'email';
select tests.clear_authentication();

select results_eq(
    $$
        select t.subject_format, t.subject_placeholders, t.body_format, t.body_placeholders
        from public.message_templates as t
        where t.workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa' and t.kind = 'welcome' and t.channel = 'email'
    $$,
    $$values ('100%% for %1$s', array['contact_name'], '%1$s%2$s at 50%%', array['contact_name', 'workspace_name'])$$,
    'an owner''s edit is parsed again, after the validation trigger trimmed it'
);

select is(
    private.queue_message(
        'c0000000-0000-0000-0000-00000000000a', 'welcome', 'email',
        '{"contact_name": "{{workspace_name}} %s", "workspace_name": "North %2$s"}', 'parsed:ann:email'
    ) is not null,
    true,
    'a message is queued from the edited template'
);

select results_eq(
    $$
        select m.subject, m.body from public.messages as m
        where m.workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa' and m.idempotency_key = 'parsed:ann:email'
    $$,
    $$
        select
            private.render_template(t.subject, '{"contact_name": "{{workspace_name}} %s", "workspace_name": "North %2$s"}'),
            private.render_template(t.body, '{"contact_name": "{{workspace_name}} %s", "workspace_name": "North %2$s"}')
        from public.message_templates as t
        where t.workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa' and t.kind = 'welcome' and t.channel = 'email'
    $$,
    'queue_messages writes render_template''s subject and body'
);

select results_eq(
    $$
        select m.subject, m.body from public.messages as m
        where m.workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa' and m.idempotency_key = 'parsed:ann:email'
    $$,
    $$values ('100% for {{workspace_name}} %s', '{{workspace_name}} %sNorth %2$s at 50%')$$,
    'values are filled in once and never read as placeholders or format codes'
);

-- The rewritten writers keep planning once per session (20261128300100, 20261128410000).
select
    ok(
        'plan_cache_mode=force_generic_plan' = any(p.proconfig),
        format('%s keeps plan_cache_mode = force_generic_plan', p.oid::regprocedure)
    )
from pg_catalog.pg_proc as p
where
    p.oid in (
        'private.queue_messages(private.message_request[])'::regprocedure,
        'private.booking_message_values(uuid[])'::regprocedure
    )
order by p.oid::regprocedure::text;

select * from finish();
rollback;
