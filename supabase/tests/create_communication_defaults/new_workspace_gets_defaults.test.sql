begin;
select plan(6);

select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select tests.authenticate_as('11111111-1111-1111-1111-111111111111');
select public.create_workspace('North Clinic', 'north-clinic', 'Europe/Paris');
select tests.clear_authentication();
create temp table made on commit drop as
select w.id from public.workspaces as w
where w.slug = 'north-clinic';

select results_eq(
    $$
        select s.email_enabled, s.sms_enabled, s.sender_name, s.sender_email, s.reply_to_email, s.sms_from_number
        from public.communication_settings as s where s.workspace_id = (select m.id from made as m)
    $$,
    $$values (true, false, null::text, null::text, null::text, null::text)$$,
    'create_workspace gives the workspace its settings: email on, SMS off, no sender yet'
);

select set_eq(
    $$select t.kind, t.channel from public.message_templates as t where t.workspace_id = (select m.id from made as m)$$,
    $$
        select k, c from unnest(array[
            'welcome', 'booking_confirmation', 'booking_cancelled', 'booking_rescheduled', 'reminder', 'form_request',
            'form_overdue', 'low_stock', 'staff_invitation'
        ]) as k, unnest(array['email']) as c
        union all
        select k, 'sms' from unnest(array[
            'welcome', 'booking_confirmation', 'booking_cancelled', 'booking_rescheduled', 'reminder', 'form_request'
        ]) as k
    $$,
    'every kind has an email template; the messages to customers also an SMS one'
);

select is_empty(
    $$
        select d.kind, m[1]
        from private.default_message_templates() as d,
            regexp_matches(coalesce(d.subject, '') || d.body, '\{\{([a-z_]+)\}\}', 'g') as m
        where not m[1] = any(private.template_placeholders(d.kind))
    $$,
    'the defaults use only the placeholders of their kind'
);

-- Idempotent, and restores what is missing without touching edits.
update public.message_templates set body = 'Hi {{contact_name}}'
where workspace_id = (select m.id from made as m) and kind = 'welcome' and channel = 'sms';
delete from public.message_templates
where workspace_id = (select m.id from made as m) and kind = 'reminder' and channel = 'email';
select private.create_communication_defaults((select m.id from made as m));
select private.create_communication_defaults((select m.id from made as m));

select is(
    (
        select count(*)::int from public.message_templates
        where workspace_id = (select m.id from made as m)
    ),
    15,
    'running the defaults twice restores the missing template and duplicates nothing'
);
select is(
    (
        select body from public.message_templates
        where workspace_id = (select m.id from made as m) and kind = 'welcome' and channel = 'sms'
    ),
    'Hi {{contact_name}}',
    'an edited template is kept'
);
select is(
    (
        select count(*)::int from public.communication_settings
        where workspace_id = (select m.id from made as m)
    ),
    1,
    'still one settings row'
);

select * from finish();
rollback;
