begin;
select plan(41);

-- Olive will try to create workspaces; Tess already owns "taken-slug".
select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select tests.create_user('22222222-2222-2222-2222-222222222222', 'taken@example.test', 'Tess Taken');
select tests.create_workspace(
    'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb', 'taken-slug', '22222222-2222-2222-2222-222222222222', 'Taken', 'UTC'
);

-- What create_workspace could have written: rows of these two users.
create temp view written as
select
    (
        select count(*)::int from public.workspaces as w
        where w.created_by in ('11111111-1111-1111-1111-111111111111', '22222222-2222-2222-2222-222222222222')
    ) as workspaces,
    (
        select count(*)::int from public.workspace_members as m
        where m.user_id in ('11111111-1111-1111-1111-111111111111', '22222222-2222-2222-2222-222222222222')
    ) as members;

create temp table written_before as select * from written;

select results_eq(
    'select * from written_before',
    $$values (1, 1)$$,
    'before: one workspace, one membership'
);

select tests.authenticate_without_user();

select throws_ok(
    $$select public.create_workspace('North Clinic', 'north-clinic', 'Europe/Paris')$$,
    'PT401',
    'not_authenticated',
    'no signed-in user: not_authenticated'
);

select tests.clear_authentication();

select results_eq(
    'select * from written',
    'select * from written_before',
    'not_authenticated writes nothing'
);

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

select throws_ok(
    $$select public.create_workspace('', 'north-clinic', 'Europe/Paris')$$,
    'PT400',
    'invalid_name',
    'an empty name: invalid_name'
);

select tests.clear_authentication();

select results_eq(
    'select * from written',
    'select * from written_before',
    'an empty name: nothing written'
);

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

select throws_ok(
    $$select public.create_workspace('   ', 'north-clinic', 'Europe/Paris')$$,
    'PT400',
    'invalid_name',
    'a blank name: invalid_name'
);

select tests.clear_authentication();

select results_eq(
    'select * from written',
    'select * from written_before',
    'a blank name: nothing written'
);

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

select throws_ok(
    $$select public.create_workspace(null, 'north-clinic', 'Europe/Paris')$$,
    'PT400',
    'invalid_name',
    'a null name: invalid_name'
);

select tests.clear_authentication();

select results_eq(
    'select * from written',
    'select * from written_before',
    'a null name: nothing written'
);

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

select throws_ok(
    $$select public.create_workspace(repeat('n', 121), 'north-clinic', 'Europe/Paris')$$,
    'PT400',
    'invalid_name',
    'a 121-character name: invalid_name'
);

select tests.clear_authentication();

select results_eq(
    'select * from written',
    'select * from written_before',
    'a 121-character name: nothing written'
);

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

select throws_ok(
    $$select public.create_workspace('North Clinic', 'ab', 'Europe/Paris')$$,
    'PT400',
    'invalid_slug',
    'a 2-character slug: invalid_slug'
);

select tests.clear_authentication();

select results_eq(
    'select * from written',
    'select * from written_before',
    'a 2-character slug: nothing written'
);

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

select throws_ok(
    $$select public.create_workspace('North Clinic', 'north clinic', 'Europe/Paris')$$,
    'PT400',
    'invalid_slug',
    'a slug with a space: invalid_slug'
);

select tests.clear_authentication();

select results_eq(
    'select * from written',
    'select * from written_before',
    'a slug with a space: nothing written'
);

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

select throws_ok(
    $$select public.create_workspace('North Clinic', '-north-clinic', 'Europe/Paris')$$,
    'PT400',
    'invalid_slug',
    'a slug with a leading hyphen: invalid_slug'
);

select tests.clear_authentication();

select results_eq(
    'select * from written',
    'select * from written_before',
    'a slug with a leading hyphen: nothing written'
);

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

select throws_ok(
    $$select public.create_workspace('North Clinic', 'north-clinic-', 'Europe/Paris')$$,
    'PT400',
    'invalid_slug',
    'a slug with a trailing hyphen: invalid_slug'
);

select tests.clear_authentication();

select results_eq(
    'select * from written',
    'select * from written_before',
    'a slug with a trailing hyphen: nothing written'
);

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

select throws_ok(
    $$select public.create_workspace('North Clinic', 'north--clinic', 'Europe/Paris')$$,
    'PT400',
    'invalid_slug',
    'a slug with a double hyphen: invalid_slug'
);

select tests.clear_authentication();

select results_eq(
    'select * from written',
    'select * from written_before',
    'a slug with a double hyphen: nothing written'
);

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

select throws_ok(
    $$select public.create_workspace('North Clinic', 'north_clinic', 'Europe/Paris')$$,
    'PT400',
    'invalid_slug',
    'a slug with an underscore: invalid_slug'
);

select tests.clear_authentication();

select results_eq(
    'select * from written',
    'select * from written_before',
    'a slug with an underscore: nothing written'
);

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

select throws_ok(
    $$select public.create_workspace('North Clinic', repeat('a', 64), 'Europe/Paris')$$,
    'PT400',
    'invalid_slug',
    'a 64-character slug: invalid_slug'
);

select tests.clear_authentication();

select results_eq(
    'select * from written',
    'select * from written_before',
    'a 64-character slug: nothing written'
);

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

select throws_ok(
    $$select public.create_workspace('North Clinic', null, 'Europe/Paris')$$,
    'PT400',
    'invalid_slug',
    'a null slug: invalid_slug'
);

select tests.clear_authentication();

select results_eq(
    'select * from written',
    'select * from written_before',
    'a null slug: nothing written'
);

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

select throws_ok(
    $$select public.create_workspace('North Clinic', 'taken-slug', 'Europe/Paris')$$,
    'PT409',
    'slug_taken',
    'a slug in use: slug_taken'
);

select tests.clear_authentication();

select results_eq(
    'select * from written',
    'select * from written_before',
    'a slug in use: nothing written'
);

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

select throws_ok(
    $$select public.create_workspace('North Clinic', ' Taken-Slug ', 'Europe/Paris')$$,
    'PT409',
    'slug_taken',
    'a slug in use once normalized: slug_taken'
);

select tests.clear_authentication();

select results_eq(
    'select * from written',
    'select * from written_before',
    'a slug in use once normalized: nothing written'
);

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

select throws_ok(
    $$select public.create_workspace('North Clinic', 'north-clinic', 'Mars/Olympus_Mons')$$,
    'PT400',
    'invalid_timezone',
    'an unknown time zone: invalid_timezone'
);

select tests.clear_authentication();

select results_eq(
    'select * from written',
    'select * from written_before',
    'an unknown time zone: nothing written'
);

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

select throws_ok(
    $$select public.create_workspace('North Clinic', 'north-clinic', '')$$,
    'PT400',
    'invalid_timezone',
    'an empty time zone: invalid_timezone'
);

select tests.clear_authentication();

select results_eq(
    'select * from written',
    'select * from written_before',
    'an empty time zone: nothing written'
);

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

select throws_ok(
    $$select public.create_workspace('North Clinic', 'north-clinic', null)$$,
    'PT400',
    'invalid_timezone',
    'a null time zone: invalid_timezone'
);

select tests.clear_authentication();

select results_eq(
    'select * from written',
    'select * from written_before',
    'a null time zone: nothing written'
);

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

select throws_ok(
    $$select public.create_workspace('', 'x', 'Nowhere')$$,
    'PT400',
    'invalid_name',
    'several bad fields (the name is checked first): invalid_name'
);

select tests.clear_authentication();

select results_eq(
    'select * from written',
    'select * from written_before',
    'several bad fields (the name is checked first): nothing written'
);

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

select is(
    tests.caught($$select public.create_workspace('North Clinic', ' Taken-Slug ', 'UTC')$$),
    jsonb_build_object(
        'sqlstate', 'PT409',
        'message', 'slug_taken',
        'detail', 'The slug "taken-slug" is taken.'
    ),
    'slug_taken names the normalized slug in its detail'
);

select is(
    tests.caught($$select public.create_workspace('North Clinic', 'no', 'UTC')$$) ->> 'detail',
    'A slug has 3 to 63 lowercase letters, digits or inner hyphens (for example "north-clinic").',
    'validation errors carry the registered description'
);

select tests.clear_authentication();

select * from finish();
rollback;
