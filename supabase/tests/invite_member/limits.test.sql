begin;
select plan(7);

-- North Clinic: Olive owns it. 99 open invitations from two hours ago (outside the hourly window).
select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select tests.create_workspace(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'north-clinic', '11111111-1111-1111-1111-111111111111',
    'North Clinic', 'Europe/Paris'
);
insert into public.invitations (workspace_id, email, role, token_hash, invited_by, expires_at, created_at)
select
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'::uuid as workspace_id,
    'open-' || n || '@example.test' as email,
    'staff' as role,
    private.token_hash('open-token-' || n) as token_hash,
    '11111111-1111-1111-1111-111111111111'::uuid as invited_by,
    now() + interval '5 days' as expires_at,
    now() - interval '2 hours' as created_at
from generate_series(1, 99) as n;

create temp view written as
select
    (select count(*)::int from public.invitations) as invitations,
    (
        select count(*)::int from pgmq.q_jobs
        where message ->> 'kind' = 'invitation_created'
    ) as jobs;

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');
select lives_ok(
    $$select public.invite_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'hundredth@example.test')$$,
    'the 100th open invitation is allowed'
);
select tests.clear_authentication();
create temp table written_before as select * from written;

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');
select throws_ok(
    $$select public.invite_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'one-more@example.test')$$,
    'PT409',
    'too_many_open_invitations',
    'the 101st is refused'
);
select tests.clear_authentication();
select results_eq('select * from written', 'select * from written_before', 'too_many_open_invitations writes nothing');

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');
select lives_ok(
    $$select public.invite_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'open-1@example.test', 'owner')$$,
    'a re-invitation replaces an open one and is allowed at the cap'
);

-- The hourly cap: 30 made in the last hour (the two above plus 28 more).
select tests.clear_authentication();
update public.invitations set revoked_at = now()
where email like 'open-%';
insert into public.invitations (workspace_id, email, role, token_hash, invited_by, expires_at)
select
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'::uuid as workspace_id,
    'hour-' || n || '@example.test' as email,
    'staff' as role,
    private.token_hash('hour-token-' || n) as token_hash,
    '11111111-1111-1111-1111-111111111111'::uuid as invited_by,
    now() + interval '5 days' as expires_at
from generate_series(1, 28) as n;
delete from written_before;
insert into written_before select * from written;

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');
select throws_ok(
    $$select public.invite_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'thirty-first@example.test')$$,
    'PT429',
    'invitation_rate_limited',
    'the 31st invitation within an hour is refused'
);
select tests.clear_authentication();
select results_eq('select * from written', 'select * from written_before', 'invitation_rate_limited writes nothing');

update public.invitations set created_at = now() - interval '61 minutes'
where email like 'hour-%';
select tests.authenticate_as('11111111-1111-1111-1111-111111111111');
select lives_ok(
    $$select public.invite_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'thirty-first@example.test')$$,
    'once they are older than an hour, inviting works again'
);

select * from finish();
rollback;
