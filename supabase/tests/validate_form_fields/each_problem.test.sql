begin;
select plan(18);

select is(
    private.validate_form_fields($$[
        {"label": " Hair type ", "key": "hair_type", "type": "choice", "options": [" Straight", "Curly "]},
        {"key": "consent", "type": "checkbox", "label": "I agree", "required": true}
    ]$$),
    $$[
        {"key": "hair_type", "type": "choice", "label": "Hair type", "required": false, "options": ["Straight", "Curly"]},
        {"key": "consent", "type": "checkbox", "label": "I agree", "required": true}
    ]$$::jsonb,
    'a valid schema comes back normalised: trimmed labels and options, required defaults to false'
);
select lives_ok(
    $$select private.validate_form_fields('[
        {"key": "a", "type": "text", "label": "A"}, {"key": "b", "type": "long_text", "label": "B"},
        {"key": "c", "type": "date", "label": "C"}, {"key": "d", "type": "email", "label": "D"},
        {"key": "e_2", "type": "phone", "label": "E"}
    ]')$$,
    'every field type is accepted'
);

select throws_ok(
    $$select private.validate_form_fields('{"key": "a"}')$$,
    'PT400', 'invalid_form_fields', 'not an array: invalid_form_fields'
);
select throws_ok(
    $$select private.validate_form_fields('[]')$$,
    'PT400', 'invalid_form_fields', 'no fields: invalid_form_fields'
);
select throws_ok(
    $$select private.validate_form_fields('["a"]')$$,
    'PT400', 'invalid_form_fields', 'a field that is not an object: invalid_form_fields'
);
select throws_ok(
    $$select private.validate_form_fields('[{"key": "a", "type": "text", "label": "A", "hint": "x"}]')$$,
    'PT400', 'unknown_field_property', 'an unknown property: unknown_field_property'
);
select throws_ok(
    $$select private.validate_form_fields('[{"key": "First-Name", "type": "text", "label": "A"}]')$$,
    'PT400', 'invalid_field_key', 'a key that is not snake_case: invalid_field_key'
);
select throws_ok(
    $$select private.validate_form_fields('[{"type": "text", "label": "A"}]')$$,
    'PT400', 'invalid_field_key', 'a missing key: invalid_field_key'
);
select throws_ok(
    $$select private.validate_form_fields(
        '[{"key": "a", "type": "text", "label": "A"}, {"key": "a", "type": "date", "label": "B"}]'
    )$$,
    'PT400', 'duplicate_field_key', 'the same key twice: duplicate_field_key'
);
select throws_ok(
    $$select private.validate_form_fields('[{"key": "a", "type": "file", "label": "A"}]')$$,
    'PT400', 'unknown_field_type', 'an unknown field type: unknown_field_type'
);
select throws_ok(
    $$select private.validate_form_fields('[{"key": "a", "type": "text"}]')$$,
    'PT400', 'invalid_field_label', 'a missing label: invalid_field_label'
);
select throws_ok(
    $$select private.validate_form_fields('[{"key": "a", "type": "text", "label": "\t"}]')$$,
    'PT400', 'invalid_field_label', 'a label with nothing visible: invalid_field_label'
);
select throws_ok(
    $$select private.validate_form_fields('[{"key": "a", "type": "text", "label": "A", "required": "true"}]')$$,
    'PT400', 'invalid_field_required', 'required as a string: invalid_field_required'
);
select throws_ok(
    $$select private.validate_form_fields('[{"key": "a", "type": "choice", "label": "A"}]')$$,
    'PT400', 'missing_field_options', 'a choice without options: missing_field_options'
);
select throws_ok(
    $$select private.validate_form_fields('[{"key": "a", "type": "choice", "label": "A", "options": []}]')$$,
    'PT400', 'missing_field_options', 'a choice with no options: missing_field_options'
);
select throws_ok(
    $$select private.validate_form_fields('[{"key": "a", "type": "choice", "label": "A", "options": ["x", null]}]')$$,
    'PT400', 'invalid_field_option', 'an option that is not a text: invalid_field_option'
);
select throws_ok(
    $$select private.validate_form_fields('[{"key": "a", "type": "choice", "label": "A", "options": ["x", "x "]}]')$$,
    'PT400', 'duplicate_field_option', 'the same option twice (after trimming): duplicate_field_option'
);
select throws_ok(
    $$select private.validate_form_fields('[{"key": "a", "type": "text", "label": "A", "options": ["x"]}]')$$,
    'PT400', 'unexpected_field_options', 'options on a text field: unexpected_field_options'
);

select * from finish();
rollback;
