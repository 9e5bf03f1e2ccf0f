begin;
select plan(14);

-- North Clinic: Olive owns it, Sam works there. South Salon belongs to Sol. Lou belongs nowhere.
select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select tests.create_user('22222222-2222-2222-2222-222222222222', 'staff@example.test', 'Sam Staff');
select tests.create_user('33333333-3333-3333-3333-333333333333', 'south@example.test', 'Sol South');
select tests.create_user('44444444-4444-4444-4444-444444444444', 'loner@example.test', 'Lou Loner');
select tests.create_workspace(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'north-clinic', '11111111-1111-1111-1111-111111111111',
    'North Clinic', 'Europe/Paris'
);
select tests.create_workspace(
    'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb', 'south-salon', '33333333-3333-3333-3333-333333333333',
    'South Salon', 'Europe/Lisbon'
);
select tests.add_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '22222222-2222-2222-2222-222222222222');

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

select throws_ok(
    $$update public.workspaces set slug = 'North Clinic' where id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'$$,
    'PT400',
    'invalid_slug',
    'an owner updating to a slug with capitals and a space gets invalid_slug'
);

select throws_ok(
    $$update public.workspaces set slug = 'north--clinic' where id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'$$,
    'PT400',
    'invalid_slug',
    'an owner updating to a slug with a double hyphen gets invalid_slug'
);

select throws_ok(
    $$update public.workspaces set slug = 'ab' where id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'$$,
    'PT400',
    'invalid_slug',
    'an owner updating to a 2-character slug gets invalid_slug'
);

select throws_ok(
    $$update public.workspaces set timezone = 'Mars/Olympus_Mons' where id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'$$,
    'PT400',
    'invalid_timezone',
    'an owner updating to an unknown time zone gets invalid_timezone'
);

select throws_ok(
    $$update public.workspaces set name = '  ' where id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'$$,
    'PT400',
    'invalid_name',
    'an owner updating to a blank name gets invalid_name'
);

select throws_ok(
    $$update public.workspaces set name = repeat('n', 121) where id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'$$,
    'PT400',
    'invalid_name',
    'an owner updating to a 121-character name gets invalid_name'
);

select throws_ok(
    $$update public.workspaces set slug = 'south-salon' where id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'$$,
    'PT409',
    'slug_taken',
    'an owner updating to a slug in use gets slug_taken'
);

select throws_ok(
    $$update public.workspaces set status = 'active' where id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'$$,
    '42501',
    null,
    'an owner cannot set status directly'
);

select tests.clear_authentication();

select results_eq(
    $$select name, slug, timezone, status from public.workspaces where id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'$$,
    $$values ('North Clinic', 'north-clinic', 'Europe/Paris', 'draft')$$,
    'the refused updates changed nothing'
);

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

select is(
    tests.affected(
        $$
            update public.workspaces
            set name = '  Renamed Clinic  ', slug = 'renamed-clinic', timezone = 'America/New_York'
            where id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'
        $$
    ),
    1,
    'an owner updates name, slug and timezone'
);

select is(
    tests.affected(
        $$update public.workspaces set name = 'Taken Over' where id = 'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb'$$
    ),
    0,
    'an owner cannot update a workspace they do not own'
);

select tests.clear_authentication();

select results_eq(
    $$select name, slug, timezone from public.workspaces where id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'$$,
    $$values ('Renamed Clinic', 'renamed-clinic', 'America/New_York')$$,
    'a valid update is stored, the name trimmed by the trigger'
);

select is(
    (
        select w.updated_at from public.workspaces as w
        where w.id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'
    ),
    now(),
    'the update touches updated_at'
);

select is(
    (
        select w.name from public.workspaces as w
        where w.id = 'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb'
    ),
    'South Salon',
    'the other workspace is untouched'
);

select * from finish();
rollback;
