begin;
select plan(11);

select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select tests.create_user('22222222-2222-2222-2222-222222222222', 'other@example.test', 'Otto Other');

-- What create_workspace returned, kept for the checks below.
create temp table created (like public.workspaces);
grant all on created to authenticated;

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

insert into created
select * from public.create_workspace('  North Clinic  ', '  North-Clinic ', ' Europe/Paris ');

select is(
    (select w.slug from public.workspaces as w),
    'north-clinic',
    'the owner reads the new workspace through RLS'
);

select is(
    private.has_role((select c.id from created as c), 'owner'),
    true,
    'the caller is an owner of the new workspace'
);

select tests.authenticate_as('22222222-2222-2222-2222-222222222222');

select is(
    (select count(*)::int from public.workspaces),
    0,
    'another user does not see it'
);

select tests.clear_authentication();

select is(
    (select c.name from created as c),
    'North Clinic',
    'the name is trimmed'
);

select is(
    (select c.slug from created as c),
    'north-clinic',
    'the slug is trimmed and lower-cased'
);

select is(
    (select c.timezone from created as c),
    'Europe/Paris',
    'the timezone is trimmed'
);

select is(
    (select c.status from created as c),
    'draft',
    'a new workspace is a draft'
);

select is(
    (select c.created_by from created as c),
    '11111111-1111-1111-1111-111111111111'::uuid,
    'created_by is the caller'
);

select is(
    (select c.created_at = now() and c.updated_at = now() from created as c),
    true,
    'created_at and updated_at are set'
);

select results_eq(
    'select * from public.workspaces where id = (select id from created)',
    'select * from created',
    'the stored row is the returned row'
);

select results_eq(
    $$
        select m.user_id, m.role from public.workspace_members as m
        where m.workspace_id = (select c.id from created as c)
    $$,
    $$values ('11111111-1111-1111-1111-111111111111'::uuid, 'owner'::text)$$,
    'the caller is the only member, as owner'
);

select * from finish();
rollback;
