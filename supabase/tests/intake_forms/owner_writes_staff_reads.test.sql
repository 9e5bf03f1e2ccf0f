begin;
select plan(9);

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
select lives_ok(
    $$
        insert into public.intake_forms (workspace_id, name, description, fields)
        values (
            'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', ' New client ',
            E'Please answer\r\nbefore your visit.', '[{"key": "allergies", "type": "long_text", "label": "Allergies"}]'
        )
    $$,
    'the owner creates a form'
);
select results_eq(
    $$select name, description, fields from public.intake_forms$$,
    $$
        values (
            'New client', E'Please answer\nbefore your visit.',
            '[{"key": "allergies", "type": "long_text", "label": "Allergies", "required": false}]'::jsonb
        )
    $$,
    'stored trimmed and normalised'
);
select throws_ok(
    $$
        insert into public.intake_forms (workspace_id, name, fields)
        values ('bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb', 'Intruder', '[{"key": "a", "type": "text", "label": "A"}]')
    $$,
    '42501', null, 'not into another workspace'
);
select throws_ok(
    $$update public.intake_forms set fields = '[{"key": "a", "type": "radio", "label": "A"}]'$$,
    'PT400', 'unknown_field_type', 'an update with a bad schema is refused'
);
select throws_ok(
    $$update public.intake_forms set name = ''$$,
    'PT400', 'invalid_name', 'an empty name is refused'
);

select tests.authenticate_as('22222222-2222-2222-2222-222222222222');
select is((select count(*)::int from public.intake_forms), 1, 'staff read the forms');
select is(tests.affected($$update public.intake_forms set active = false$$), 0, 'staff cannot change them');
select is(tests.affected($$delete from public.intake_forms$$), 0, 'staff cannot delete them');

select tests.authenticate_as('33333333-3333-3333-3333-333333333333');
select is((select count(*)::int from public.intake_forms), 0, 'another workspace''s owner sees none');
select tests.clear_authentication();

select * from finish();
rollback;
