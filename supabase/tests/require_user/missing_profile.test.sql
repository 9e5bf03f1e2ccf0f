begin;
select plan(6);

select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select tests.create_user('99999999-9999-9999-9999-999999999999', 'ghost@example.test', 'Gus Ghost');
select tests.create_workspace(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'north-clinic', '11111111-1111-1111-1111-111111111111',
    'North Clinic', 'Europe/Paris'
);

select tests.authenticate_as('99999999-9999-9999-9999-999999999999');
select is(private.require_user(), '99999999-9999-9999-9999-999999999999'::uuid, 'a user with a profile passes');

-- The profile goes (a user older than the profile trigger, or lost for any other reason).
select tests.clear_authentication();
delete from public.profiles
where id = '99999999-9999-9999-9999-999999999999';
select tests.authenticate_as('99999999-9999-9999-9999-999999999999');

select throws_ok(
    'select private.require_user()', 'PT401', 'not_authenticated', 'no profile: require_user says not_authenticated'
);
select throws_ok(
    $$select public.create_workspace('Ghost Clinic', 'ghost-clinic', 'UTC')$$,
    'PT401', 'not_authenticated', 'no profile: create_workspace says not_authenticated, not a foreign key name'
);
select throws_ok(
    $$select public.invite_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'x@example.test')$$,
    'PT401', 'not_authenticated', 'no profile: invite_member says not_authenticated'
);

-- The backfill gives it back.
select tests.clear_authentication();
select is(private.backfill_profiles(), 1, 'the backfill creates the one missing profile');
select is(
    (
        select p.full_name from public.profiles as p
        where p.id = '99999999-9999-9999-9999-999999999999'
    ),
    'Gus Ghost',
    'with the name from sign-up metadata'
);

select * from finish();
rollback;
