begin;
select plan(9);

-- North Clinic: Olive and Otto own it. Olive invited her second address as owner and Ivy as staff;
-- Otto invited Uma.
select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select tests.create_user('66666666-6666-6666-6666-666666666666', 'otto@example.test', 'Otto Owner');
select tests.create_user('77777777-7777-7777-7777-777777777777', 'olive.second@example.test', 'Olive Again');
select tests.create_user('44444444-4444-4444-4444-444444444444', 'ivy@example.test', 'Ivy Invitee');
select tests.create_user('88888888-8888-8888-8888-888888888888', 'uma@example.test', 'Uma Invitee');
select tests.create_workspace(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'north-clinic', '11111111-1111-1111-1111-111111111111',
    'North Clinic', 'Europe/Paris'
);
select tests.add_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '66666666-6666-6666-6666-666666666666', 'owner');
select tests.create_invitation(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'olive.second@example.test', 'second-token', 'owner',
    'dddddddd-dddd-dddd-dddd-dddddddddd01'
);
select tests.create_invitation(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'ivy@example.test', 'ivy-token', 'staff',
    'dddddddd-dddd-dddd-dddd-dddddddddd02'
);
insert into public.invitations (id, workspace_id, email, role, token_hash, invited_by, expires_at)
values (
    'dddddddd-dddd-dddd-dddd-dddddddddd03', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'uma@example.test', 'staff',
    private.token_hash('uma-token'), '66666666-6666-6666-6666-666666666666', now() + interval '7 days'
);

-- Otto demotes Olive.
select tests.authenticate_as('66666666-6666-6666-6666-666666666666');
update public.workspace_members set role = 'staff'
where user_id = '11111111-1111-1111-1111-111111111111';
select tests.clear_authentication();

select results_eq(
    'select id, revoked_at is not null from public.invitations order by id',
    $$
        values
        ('dddddddd-dddd-dddd-dddd-dddddddddd01'::uuid, true),
        ('dddddddd-dddd-dddd-dddd-dddddddddd02'::uuid, true),
        ('dddddddd-dddd-dddd-dddd-dddddddddd03'::uuid, false)
    $$,
    'the demotion revokes Olive''s open invitations, not Otto''s'
);

select tests.authenticate_as('77777777-7777-7777-7777-777777777777');
select throws_ok(
    $$select public.accept_invitation('second-token')$$,
    'PT410', 'invitation_revoked', 'Olive''s second address cannot become owner'
);

-- Even if the invitation were still marked open, the inviter's missing rights refuse it.
select tests.clear_authentication();
update public.invitations set revoked_at = null
where id = 'dddddddd-dddd-dddd-dddd-dddddddddd01';
select tests.authenticate_as('77777777-7777-7777-7777-777777777777');
select throws_ok(
    $$select public.accept_invitation('second-token')$$,
    'PT410', 'invitation_revoked', 'an open invitation from a former owner is refused at acceptance'
);
select tests.authenticate_as('44444444-4444-4444-4444-444444444444');
select throws_ok(
    $$select public.accept_invitation('ivy-token')$$,
    'PT410', 'invitation_revoked', 'so is a staff invitation from her'
);

select tests.authenticate_as('88888888-8888-8888-8888-888888888888');
select lives_ok($$select public.accept_invitation('uma-token')$$, 'Otto''s invitation still works');

select tests.clear_authentication();
select results_eq(
    'select user_id, role from public.workspace_members order by user_id',
    $$
        values
        ('11111111-1111-1111-1111-111111111111'::uuid, 'staff'),
        ('66666666-6666-6666-6666-666666666666'::uuid, 'owner'),
        ('88888888-8888-8888-8888-888888888888'::uuid, 'staff')
    $$,
    'only Uma joined'
);

-- Otto's account is deleted (Olive is made owner again first, so he is not the last one).
update public.workspace_members set role = 'owner'
where user_id = '11111111-1111-1111-1111-111111111111';
select tests.create_invitation(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'late@example.test', 'late-token', 'staff',
    'dddddddd-dddd-dddd-dddd-dddddddddd04'
);
update public.invitations set invited_by = '66666666-6666-6666-6666-666666666666'
where id = 'dddddddd-dddd-dddd-dddd-dddddddddd04';
delete from auth.users
where id = '66666666-6666-6666-6666-666666666666';
select is(
    (
        select revoked_at is not null from public.invitations
        where id = 'dddddddd-dddd-dddd-dddd-dddddddddd04'
    ),
    true,
    'a deleted account''s open invitations are revoked'
);
select is(
    (
        select invited_by from public.invitations
        where id = 'dddddddd-dddd-dddd-dddd-dddddddddd04'
    ),
    null,
    'and no longer name it'
);

-- Removing a staff member touches no invitation.
select tests.create_invitation(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'next@example.test', 'next-token', 'staff',
    'dddddddd-dddd-dddd-dddd-dddddddddd05'
);
delete from public.workspace_members
where user_id = '88888888-8888-8888-8888-888888888888';
select is(
    (
        select revoked_at from public.invitations
        where id = 'dddddddd-dddd-dddd-dddd-dddddddddd05'
    ),
    null,
    'a staff member leaving revokes nothing'
);

select * from finish();
rollback;
