begin;
select plan(7);

select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select tests.create_user('22222222-2222-2222-2222-222222222222', 'staff@example.test', 'Stan Staff');
select
    tests.create_workspace(
        'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'north-clinic', '11111111-1111-1111-1111-111111111111'
    );
select tests.add_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '22222222-2222-2222-2222-222222222222');
insert into public.workspace_closures (workspace_id, closed_on, note)
values ('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '2030-12-25', 'Christmas');

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');
select throws_ok(
    $$insert into public.workspace_closures (workspace_id, closed_on)
      values ('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', null)$$,
    'PT400', 'invalid_date', 'no date: invalid_date'
);
select throws_ok(
    $$insert into public.workspace_closures (workspace_id, closed_on, note)
      values ('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '2030-12-26', repeat('x', 501))$$,
    'PT400', 'invalid_note', 'a 501-character note: invalid_note'
);
select throws_ok(
    $$insert into public.workspace_closures (workspace_id, closed_on)
      values ('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '2030-12-25')$$,
    '23505', null, 'the same date twice: unique violation'
);
select lives_ok(
    $$insert into public.workspace_closures (workspace_id, closed_on, note)
      values ('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '2030-12-26', ' ')$$,
    'a blank note is no note'
);
select tests.clear_authentication();

select results_eq(
    'select closed_on::text, note from public.workspace_closures order by closed_on',
    $$values ('2030-12-25', 'Christmas'::text), ('2030-12-26', null)$$,
    'only the valid closures exist'
);

select tests.authenticate_as('22222222-2222-2222-2222-222222222222');
select throws_ok(
    $$insert into public.workspace_closures (workspace_id, closed_on)
      values ('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '2030-12-31')$$,
    '42501', null, 'staff cannot close the workspace'
);
select is(
    tests.affected(
        $$delete from public.workspace_closures where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'$$
    ),
    0,
    'staff cannot remove closures'
);
select tests.clear_authentication();

select * from finish();
rollback;
