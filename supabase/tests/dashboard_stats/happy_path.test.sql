begin;
select plan(6);

-- North Clinic (Pacific/Auckland): Olive and Oscar own it, Sam and Sue work there.
-- South Salon belongs to Sol and has invitations of its own.
select tests.create_user('11111111-1111-1111-1111-111111111111', 'olive@example.test', 'Olive Owner');
select tests.create_user('22222222-2222-2222-2222-222222222222', 'sam@example.test', 'Sam Staff');
select tests.create_user('33333333-3333-3333-3333-333333333333', 'sol@example.test', 'Sol South');
select tests.create_user('44444444-4444-4444-4444-444444444444', 'oscar@example.test', 'Oscar Owner');
select tests.create_user('55555555-5555-5555-5555-555555555555', 'sue@example.test', 'Sue Staff');
select tests.create_workspace(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'north-clinic', '11111111-1111-1111-1111-111111111111',
    'North Clinic', 'Pacific/Auckland'
);
select tests.create_workspace(
    'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb', 'south-salon', '33333333-3333-3333-3333-333333333333',
    'South Salon', 'Pacific/Honolulu'
);
select tests.add_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '22222222-2222-2222-2222-222222222222');
select tests.add_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '55555555-5555-5555-5555-555555555555');
select tests.add_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '44444444-4444-4444-4444-444444444444', 'owner');

-- North: two pending, one expired, one revoked, one accepted. South: one pending.
select tests.create_invitation('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'p1@example.test', 'token-p1');
select tests.create_invitation('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'p2@example.test', 'token-p2');
select tests.create_invitation('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'ex@example.test', 'token-ex');
select tests.create_invitation('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'rv@example.test', 'token-rv');
select tests.create_invitation('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'ac@example.test', 'token-ac');
select tests.create_invitation('bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb', 'south@example.test', 'token-south');
update public.invitations set expires_at = now() - interval '1 minute'
where email = 'ex@example.test';
update public.invitations set revoked_at = now()
where email = 'rv@example.test';
update public.invitations set accepted_at = now()
where email = 'ac@example.test';

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

select is(
    public.dashboard_stats('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa') -> 'workspace',
    jsonb_build_object(
        'id', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa',
        'name', 'North Clinic',
        'timezone', 'Pacific/Auckland',
        'status', 'draft',
        'today_local', (now() at time zone 'Pacific/Auckland')::date
    ),
    'the workspace, with today''s date in its own time zone'
);

select is(
    public.dashboard_stats('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa') -> 'members',
    '{"owners": 2, "staff": 2}'::jsonb,
    'members by role'
);

select is(
    public.dashboard_stats('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa') -> 'invitations',
    '{"pending": 2}'::jsonb,
    'only open invitations count: not expired, revoked, accepted, nor another workspace''s'
);

select is(
    (
        select array_agg(k order by k)
        from jsonb_object_keys(public.dashboard_stats('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa')) as k
    ),
    array['alerts', 'bookings', 'forms', 'inventory', 'invitations', 'leads', 'members', 'workspace'],
    'every section'
);

select is(
    public.dashboard_stats('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'),
    private.dashboard_stats_at('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', now()),
    'dashboard_stats is dashboard_stats_at now()'
);

select tests.authenticate_as_service_role();

select is(
    public.dashboard_stats('bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb') -> 'invitations',
    '{"pending": 1}'::jsonb,
    'service_role reads any workspace, invitations included'
);

select * from finish();
rollback;
