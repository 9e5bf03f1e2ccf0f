begin;
select plan(12);

select throws_ok(
    $$select private.raise_error('slug_taken')$$,
    'PT409',
    'slug_taken',
    'slug_taken raises PT409 with the code as message'
);

select is(
    tests.caught($$select private.raise_error('slug_taken')$$),
    jsonb_build_object(
        'sqlstate', 'PT409',
        'message', 'slug_taken',
        'detail', 'Another workspace already uses this slug.'
    ),
    'the detail is the registered description'
);

select is(
    tests.caught($$select private.raise_error('not_found', 'No such appointment.')$$),
    jsonb_build_object('sqlstate', 'PT404', 'message', 'not_found', 'detail', 'No such appointment.'),
    'a detail passed in overrides the description'
);

select is(
    tests.caught($$select private.raise_error('not_authenticated', null)$$),
    jsonb_build_object(
        'sqlstate', 'PT401',
        'message', 'not_authenticated',
        'detail', 'The request carries no signed-in user.'
    ),
    'a null detail falls back to the description'
);

select is(
    tests.caught($$select private.raise_error('invitation_expired')$$) ->> 'sqlstate',
    'PT410',
    'a 410 code raises PT410'
);

select ok(
    (select count(*)::int from private.error_codes) >= 17,
    'the registry holds at least the 17 tenancy codes (tests/test_errors.py keeps it equal to docs/errors.md)'
);

select is(
    (
        select array_agg(e.code order by e.code)
        from private.error_codes as e
        where
            tests.caught(format('select private.raise_error(%L)', e.code))
            is distinct from jsonb_build_object(
                'sqlstate', 'PT' || e.http_status::text,
                'message', e.code,
                'detail', e.description
            )
    ),
    null,
    'every registered code raises PT<status>, its code and its description'
);

select throws_ok(
    $$select private.raise_error('no_such_code')$$,
    'XX000',
    'unknown error code: no_such_code',
    'an unknown code raises XX000'
);

select throws_ok(
    $$select private.raise_error(null)$$,
    'XX000',
    null,
    'a null code raises XX000'
);

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

select throws_ok(
    $$select private.raise_error('forbidden')$$,
    'PT403',
    'forbidden',
    'authenticated may call raise_error'
);

select tests.clear_authentication();

select function_privs_are(
    'private', 'raise_error', array['text', 'text'], 'anon', array[]::text[],
    'anon cannot execute private.raise_error'
);

select ok(
    not has_table_privilege('authenticated', 'private.error_codes', 'select'),
    'authenticated cannot read the registry directly'
);

select * from finish();
rollback;
