begin;
create extension if not exists pgtap with schema extensions;
select plan(5);

-- Max signed up with capitals in his address; Olive invites it in lower case.
insert into auth.users (id, email, raw_user_meta_data) values
('11111111-1111-1111-1111-111111111111', 'owner@example.test', '{"full_name": "Olive Owner"}'),
('66666666-6666-6666-6666-666666666666', 'Max.Mixed@Example.TEST', '{"full_name": "Max Mixed"}');

insert into public.workspaces (id, name, slug, timezone, created_by) values
(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa',
    'North Clinic', 'north-clinic', 'Europe/Paris', '11111111-1111-1111-1111-111111111111'
);

insert into public.workspace_members (workspace_id, user_id, role) values
('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '11111111-1111-1111-1111-111111111111', 'owner');

create temp table invited (
    invitation_id uuid,
    email text,
    role text,
    token text,
    expires_at timestamptz
);
grant all on invited to authenticated;

select set_config(
    'request.jwt.claims', '{"sub": "11111111-1111-1111-1111-111111111111", "role": "authenticated"}', true
);
set local role authenticated;

insert into invited
select * from public.invite_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', ' max.mixed@example.test ');

select is(
    (select v.email from invited as v),
    'max.mixed@example.test',
    'the invitation holds the lower-case address'
);

select set_config(
    'request.jwt.claims', '{"sub": "66666666-6666-6666-6666-666666666666", "role": "authenticated"}', true
);

select results_eq(
    $$select workspace_id, user_id, role from public.accept_invitation((select v.token from invited as v))$$,
    $$
        values (
            'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'::uuid,
            '66666666-6666-6666-6666-666666666666'::uuid,
            'staff'::text
        )
    $$,
    'a user whose auth email differs only in case accepts'
);

select is(
    private.is_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'),
    true,
    'and is a member'
);

select set_config(
    'request.jwt.claims', '{"sub": "11111111-1111-1111-1111-111111111111", "role": "authenticated"}', true
);

select throws_ok(
    $$select public.invite_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'MAX.MIXED@example.test')$$,
    'PT409',
    'already_member',
    'inviting the member again in any case gives already_member'
);

reset role;

select is(
    (
        select i.accepted_by from public.invitations as i
        where i.workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'
    ),
    '66666666-6666-6666-6666-666666666666'::uuid,
    'the invitation is accepted by that user'
);

select * from finish();
rollback;
