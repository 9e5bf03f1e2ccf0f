begin;
select plan(5);

select tests.create_user('11111111-1111-1111-1111-111111111111', 'olive@example.test', 'Olive Owner');
select tests.create_user('22222222-2222-2222-2222-222222222222', 'sam@example.test', 'Sam Staff');

-- Age the profile so that the update is visible in updated_at. The touch trigger
-- would reset updated_at to now(), so it is off for this one update: postgres owns
-- the table (no session_replication_role: that would turn off every trigger).
alter table public.profiles disable trigger profiles_touch_updated_at;
update public.profiles
set updated_at = '2026-01-01 00:00:00+00', created_at = '2026-01-01 00:00:00+00'
where id = '11111111-1111-1111-1111-111111111111';
alter table public.profiles enable trigger profiles_touch_updated_at;

update auth.users set email = 'olive.new@example.test'
where id = '11111111-1111-1111-1111-111111111111';

select is(
    (
        select p.email from public.profiles as p
        where p.id = '11111111-1111-1111-1111-111111111111'
    ),
    'olive.new@example.test',
    'an email change reaches the profile'
);

select is(
    (
        select p.updated_at from public.profiles as p
        where p.id = '11111111-1111-1111-1111-111111111111'
    ),
    now(),
    'the synced profile has a fresh updated_at'
);

select is(
    (
        select p.full_name from public.profiles as p
        where p.id = '11111111-1111-1111-1111-111111111111'
    ),
    'Olive Owner',
    'the sync leaves full_name alone'
);

select is(
    (
        select p.email from public.profiles as p
        where p.id = '22222222-2222-2222-2222-222222222222'
    ),
    'sam@example.test',
    'other profiles keep their email'
);

update auth.users set email = null
where id = '22222222-2222-2222-2222-222222222222';

select is(
    (
        select p.email from public.profiles as p
        where p.id = '22222222-2222-2222-2222-222222222222'
    ),
    null,
    'clearing the auth email clears the profile email'
);

select * from finish();
rollback;
