begin;
select plan(7);

select tests.create_user('11111111-1111-1111-1111-111111111111', 'olive@example.test', 'Olive Owner');
select tests.create_user('22222222-2222-2222-2222-222222222222', 'sam@example.test', 'Sam Staff');
select tests.create_user('33333333-3333-3333-3333-333333333333', 'sol@example.test', 'Sol South');
select tests.create_workspace(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'north-clinic', '11111111-1111-1111-1111-111111111111'
);
select tests.create_workspace(
    'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb', 'south-salon', '33333333-3333-3333-3333-333333333333'
);
select tests.add_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '22222222-2222-2222-2222-222222222222');
select tests.create_invitation('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'new@example.test', 'token-new');

select tests.authenticate_as('22222222-2222-2222-2222-222222222222');

select is(
    public.dashboard_stats('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa') -> 'members',
    '{"owners": 1, "staff": 1}'::jsonb,
    'staff read the member counts'
);

select is(
    public.dashboard_stats('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa') -> 'invitations',
    'null'::jsonb,
    'staff get null invitations (they may not read them), not a misleading 0'
);

select is(
    tests.caught($$select public.dashboard_stats('bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb')$$) ->> 'message',
    'not_found',
    'a member of another workspace gets not_found'
);

select is(
    tests.caught($$select public.dashboard_stats('bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb')$$),
    tests.caught($$select public.dashboard_stats('cccccccc-cccc-cccc-cccc-cccccccccccc')$$),
    'the same error as for a workspace that does not exist'
);

select is(
    tests.caught($$select public.dashboard_stats(null)$$) ->> 'sqlstate',
    'PT404',
    'no workspace id: not_found (404)'
);

select tests.authenticate_without_user();

select is(
    tests.caught($$select public.dashboard_stats('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa')$$) ->> 'message',
    'not_authenticated',
    'an authenticated request without a user: not_authenticated'
);

select tests.authenticate_as_anon();

select is(
    tests.caught($$select public.dashboard_stats('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa')$$) ->> 'sqlstate',
    '42501',
    'anon may not execute it'
);

select * from finish();
rollback;
