begin;
select plan(5);

select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select tests.create_user('22222222-2222-2222-2222-222222222222', 'second@example.test', 'Second Owner');
select tests.create_user('33333333-3333-3333-3333-333333333333', 'staff@example.test', 'Stan Staff');

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');
select public.create_workspace('North Clinic', 'north-clinic', 'Europe/Paris');
select tests.clear_authentication();

select results_eq(
    $$select p.user_id, p.active from public.practitioners as p
      join public.workspaces as w on w.id = p.workspace_id where w.slug = 'north-clinic'$$,
    $$values ('11111111-1111-1111-1111-111111111111'::uuid, true)$$,
    'create_workspace makes its caller the first practitioner'
);

insert into public.workspace_members (workspace_id, user_id, role)
select
    w.id as workspace_id,
    '22222222-2222-2222-2222-222222222222' as user_id,
    'owner' as role
from public.workspaces as w
where w.slug = 'north-clinic';
insert into public.workspace_members (workspace_id, user_id, role)
select
    w.id as workspace_id,
    '33333333-3333-3333-3333-333333333333' as user_id,
    'staff' as role
from public.workspaces as w
where w.slug = 'north-clinic';

select is(
    (select count(*)::int from public.practitioners),
    1,
    'later owners and staff are not practitioners until an owner marks them'
);

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');
select lives_ok(
    $$insert into public.practitioners (workspace_id, user_id)
      select w.id, '33333333-3333-3333-3333-333333333333' from public.workspaces as w where w.slug = 'north-clinic'$$,
    'an owner marks a staff member as a practitioner'
);
select tests.clear_authentication();

select tests.authenticate_as('33333333-3333-3333-3333-333333333333');
select is(
    tests.affected($$update public.practitioners set active = false$$),
    0,
    'staff cannot switch practitioners off, not even themselves'
);
select throws_ok(
    $$insert into public.practitioners (workspace_id, user_id)
      select w.id, '22222222-2222-2222-2222-222222222222' from public.workspaces as w where w.slug = 'north-clinic'$$,
    '42501', null, 'staff cannot mark members as practitioners'
);
select tests.clear_authentication();

select * from finish();
rollback;
