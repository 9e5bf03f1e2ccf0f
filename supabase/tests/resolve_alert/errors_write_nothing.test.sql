begin;
select plan(8);

select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select tests.create_user('33333333-3333-3333-3333-333333333333', 'south@example.test', 'Sol South');
select tests.create_workspace(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'north-clinic', '11111111-1111-1111-1111-111111111111'
);
select tests.create_workspace(
    'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb', 'south-salon', '33333333-3333-3333-3333-333333333333'
);
select private.raise_alert(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'low_stock', 'inventory_item',
    'eeeeeeee-eeee-eeee-eeee-eeeeeeeeeee1', 'Gloves are low.'
);

create temp view written as
select count(*)::int as resolved from public.alerts as a
where a.resolved_at is not null;
create temp table written_before as select * from written;
create temp table target as
select a.id from public.alerts as a
where a.workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa';
grant select on target to authenticated;

select tests.authenticate_without_user();
select throws_ok(
    $$select public.resolve_alert((select t.id from target as t))$$,
    'PT401', 'not_authenticated', 'no signed-in user: not_authenticated'
);
select tests.clear_authentication();
select results_eq('select * from written', 'select * from written_before', 'no signed-in user: nothing resolved');

select tests.authenticate_as('33333333-3333-3333-3333-333333333333');
select throws_ok(
    $$select public.resolve_alert((select t.id from target as t))$$,
    'PT404', 'not_found', 'a member of another workspace: not_found'
);
select tests.clear_authentication();
select results_eq(
    'select * from written', 'select * from written_before', 'a member of another workspace: nothing resolved'
);

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');
select throws_ok(
    $$select public.resolve_alert('cccccccc-cccc-cccc-cccc-cccccccccccc')$$,
    'PT404', 'not_found', 'an alert that does not exist: not_found'
);
select throws_ok(
    $$select public.resolve_alert(null)$$,
    'PT404', 'not_found', 'a null id: not_found'
);
select tests.clear_authentication();
select results_eq('select * from written', 'select * from written_before', 'unknown ids: nothing resolved');

select tests.authenticate_as_anon();
select throws_ok(
    $$select public.resolve_alert((select t.id from target as t))$$,
    '42501', null, 'anon may not call resolve_alert'
);

select * from finish();
rollback;
