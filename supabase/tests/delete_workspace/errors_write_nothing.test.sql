begin;
select plan(14);

-- North Clinic: Olive owns it, Sam works there, Ivy is invited. South Salon belongs to Sol.
select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select tests.create_user('22222222-2222-2222-2222-222222222222', 'staff@example.test', 'Sam Staff');
select tests.create_user('33333333-3333-3333-3333-333333333333', 'south@example.test', 'Sol South');
select tests.create_workspace(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'north-clinic', '11111111-1111-1111-1111-111111111111',
    'North Clinic', 'Europe/Paris'
);
select tests.create_workspace(
    'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb', 'south-salon', '33333333-3333-3333-3333-333333333333',
    'South Salon', 'Europe/Lisbon'
);
select tests.add_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '22222222-2222-2222-2222-222222222222');
select tests.create_invitation('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'invitee@example.test', 'north-token');

-- What delete_workspace could have removed.
create temp view kept as
select
    (select count(*)::int from public.workspaces) as workspaces,
    (select count(*)::int from public.workspace_members) as members,
    (select count(*)::int from public.invitations) as invitations;

create temp table kept_before as select * from kept;

select results_eq('select * from kept_before', $$values (2, 3, 1)$$, 'before: two workspaces');

select tests.authenticate_without_user();
select throws_ok(
    $$select public.delete_workspace('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'north-clinic')$$,
    'PT401', 'not_authenticated', 'no signed-in user: not_authenticated'
);

select tests.authenticate_as('33333333-3333-3333-3333-333333333333');
select throws_ok(
    $$select public.delete_workspace('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'north-clinic')$$,
    'PT404', 'not_found', 'another workspace''s owner: not_found'
);
select throws_ok(
    $$select public.delete_workspace('cccccccc-cccc-cccc-cccc-cccccccccccc', 'north-clinic')$$,
    'PT404', 'not_found', 'no such workspace: not_found'
);

select tests.authenticate_as('22222222-2222-2222-2222-222222222222');
select throws_ok(
    $$select public.delete_workspace('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'north-clinic')$$,
    'PT403', 'forbidden', 'staff: forbidden'
);

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');
select throws_ok(
    $$select public.delete_workspace('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'south-salon')$$,
    'PT400', 'confirmation_mismatch', 'another workspace''s slug: confirmation_mismatch'
);
select throws_ok(
    $$select public.delete_workspace('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', null)$$,
    'PT400', 'confirmation_mismatch', 'no slug: confirmation_mismatch'
);
select throws_ok(
    $$select public.delete_workspace('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'north')$$,
    'PT400', 'confirmation_mismatch', 'part of the slug: confirmation_mismatch'
);

select tests.authenticate_as_anon();
select throws_ok(
    $$select public.delete_workspace('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'north-clinic')$$,
    '42501', null, 'anon may not execute it'
);

select tests.clear_authentication();
select results_eq('select * from kept', 'select * from kept_before', 'after the errors: nothing removed');

-- The owner deletes North Clinic: its members and invitations go with it.
select tests.authenticate_as('11111111-1111-1111-1111-111111111111');
select is(
    (select d.slug from public.delete_workspace('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', ' North-Clinic ') as d),
    'north-clinic',
    'the owner deletes it (slug trimmed, any case) and gets the deleted row'
);
select tests.clear_authentication();
select results_eq('select * from kept', $$values (1, 1, 0)$$, 'its members and invitations went with it');

-- Now the ex-owner may delete their account (it was refused with last_owner before).
select lives_ok(
    $$delete from auth.users where id = '11111111-1111-1111-1111-111111111111'$$,
    'the former sole owner can delete their account'
);
select is(
    (
        select count(*)::int from public.workspaces
        where id = 'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb'
    ),
    1,
    'South Salon is untouched'
);

select * from finish();
rollback;
