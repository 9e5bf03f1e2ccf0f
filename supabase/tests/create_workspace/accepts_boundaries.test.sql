begin;
select plan(4);

select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');

create temp table created (like public.workspaces);
grant all on created to authenticated;

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

insert into created select * from public.create_workspace('x', 'abc', 'UTC');
insert into created
select * from public.create_workspace(repeat('n', 120), repeat('a', 63), 'America/Argentina/Buenos_Aires');
insert into created select * from public.create_workspace('24/7 Repairs', '24-7-repairs', 'Asia/Kolkata');
insert into created select * from public.create_workspace('  ' || repeat('m', 120) || '  ', 'm-1-2-3', 'UTC');

select tests.clear_authentication();

select results_eq(
    'select char_length(name), slug, timezone from created order by slug',
    $$
        values
        (12, '24-7-repairs', 'Asia/Kolkata'),
        (120, repeat('a', 63), 'America/Argentina/Buenos_Aires'),
        (1, 'abc', 'UTC'),
        (120, 'm-1-2-3', 'UTC')
    $$,
    'names of 1 and 120 characters, slugs of 3 and 63 and digits, any IANA zone are accepted'
);

select is(
    (
        select c.name from created as c
        where c.slug = 'm-1-2-3'
    ),
    repeat('m', 120),
    'a 120-character name with padding is trimmed, not refused'
);

select is(
    (
        select count(*)::int from public.workspace_members as m
        where m.user_id = '11111111-1111-1111-1111-111111111111' and m.role = 'owner'
    ),
    4,
    'the caller owns each of the four workspaces'
);

select is(
    (
        select count(distinct c.id)::int from created as c
        where c.status = 'draft'
    ),
    4,
    'four distinct draft workspaces'
);

select * from finish();
rollback;
