begin;
select plan(9);

-- Users inserted as GoTrue does at sign-up.
insert into auth.users (id, email, raw_user_meta_data) values
(
    '11111111-1111-1111-1111-111111111111',
    'olive@example.test',
    '{"full_name": "Olive Owner", "name": "Ignored Name"}'
),
('22222222-2222-2222-2222-222222222222', 'nadia@example.test', '{"name": "Nadia Name"}'),
('33333333-3333-3333-3333-333333333333', 'nobody@example.test', '{}'),
('44444444-4444-4444-4444-444444444444', 'nometa@example.test', null),
('55555555-5555-5555-5555-555555555555', 'nullfull@example.test', '{"full_name": null, "name": "Fallback Name"}'),
(
    '66666666-6666-6666-6666-666666666666',
    'long@example.test',
    jsonb_build_object('full_name', repeat('x', 250))
);

select is(
    (
        select count(*)::int from public.profiles as p
        inner join auth.users as u on p.id = u.id
        where u.email like '%@example.test'
    ),
    6,
    'each new user gets a profile'
);

select is(
    (
        select p.email from public.profiles as p
        where p.id = '11111111-1111-1111-1111-111111111111'
    ),
    'olive@example.test',
    'the profile copies the email'
);

select is(
    (
        select p.full_name from public.profiles as p
        where p.id = '11111111-1111-1111-1111-111111111111'
    ),
    'Olive Owner',
    'full_name comes from metadata full_name first'
);

select is(
    (
        select p.full_name from public.profiles as p
        where p.id = '22222222-2222-2222-2222-222222222222'
    ),
    'Nadia Name',
    'full_name falls back to metadata name'
);

select is(
    (
        select p.full_name from public.profiles as p
        where p.id = '55555555-5555-5555-5555-555555555555'
    ),
    'Fallback Name',
    'a json null full_name falls back to name'
);

select is(
    (
        select p.full_name from public.profiles as p
        where p.id = '33333333-3333-3333-3333-333333333333'
    ),
    '',
    'empty metadata gives an empty full_name'
);

select is(
    (
        select p.full_name from public.profiles as p
        where p.id = '44444444-4444-4444-4444-444444444444'
    ),
    '',
    'null metadata gives an empty full_name'
);

select is(
    (
        select p.full_name from public.profiles as p
        where p.id = '66666666-6666-6666-6666-666666666666'
    ),
    repeat('x', 200),
    'a long name is cut to 200 characters'
);

select is(
    (
        select p.created_at = now() and p.updated_at = now()
        from public.profiles as p
        where p.id = '11111111-1111-1111-1111-111111111111'
    ),
    true,
    'created_at and updated_at are set'
);

select * from finish();
rollback;
