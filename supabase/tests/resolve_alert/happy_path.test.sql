begin;
select plan(5);

select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select tests.create_user('22222222-2222-2222-2222-222222222222', 'staff@example.test', 'Sam Staff');
select tests.create_workspace(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'north-clinic', '11111111-1111-1111-1111-111111111111'
);
select tests.add_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '22222222-2222-2222-2222-222222222222');

create temp table raised as
select private.raise_alert(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'form_overdue', 'form_submission',
    'eeeeeeee-eeee-eeee-eeee-eeeeeeeeeee1', 'Intake form of Ann Lee is overdue.'
) as alert_id;
grant select on raised to authenticated;

select tests.authenticate_as('22222222-2222-2222-2222-222222222222');

select is(
    (
        select count(*)::int from public.alerts
        where resolved_at is null
    ),
    1,
    'staff see the open alert of their workspace'
);

select results_eq(
    $$
        select a.id, a.resolved_at, a.resolved_by
        from public.resolve_alert(p_alert_id => (select r.alert_id from raised as r)) as a
    $$,
    $$values ((select r.alert_id from raised as r), now(), '22222222-2222-2222-2222-222222222222'::uuid)$$,
    'staff resolve it: when and by whom'
);

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

select results_eq(
    $$select a.resolved_by from public.resolve_alert((select r.alert_id from raised as r)) as a$$,
    $$values ('22222222-2222-2222-2222-222222222222'::uuid)$$,
    'resolving again returns the alert as it is (the first resolver stays)'
);

select is(
    (
        select count(*)::int from public.alerts
        where id = (select r.alert_id from raised as r)
    ),
    1,
    'the resolved alert stays readable as history'
);

select throws_ok(
    $$update public.alerts set resolved_at = null$$,
    '42501',
    null,
    'members cannot write alerts directly'
);

select * from finish();
rollback;
