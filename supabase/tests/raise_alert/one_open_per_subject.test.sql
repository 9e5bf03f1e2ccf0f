begin;
select plan(9);

select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select tests.create_workspace(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'north-clinic', '11111111-1111-1111-1111-111111111111'
);

create temp table raised as
select private.raise_alert(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'low_stock', 'inventory_item',
    'eeeeeeee-eeee-eeee-eeee-eeeeeeeeeee1', 'Gloves are low: 3 left (threshold 5).'
) as alert_id;

select results_eq(
    $$
        select a.kind, a.severity, a.subject_type, a.subject_id, a.text, a.created_at, a.resolved_at
        from public.alerts as a where a.id = (select r.alert_id from raised as r)
    $$,
    $$
        values (
            'low_stock', 'warning', 'inventory_item', 'eeeeeeee-eeee-eeee-eeee-eeeeeeeeeee1'::uuid,
            'Gloves are low: 3 left (threshold 5).', now(), null::timestamptz
        )
    $$,
    'raise_alert opens an alert with its kind, subject and text'
);

select is(
    private.raise_alert(
        'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'low_stock', 'inventory_item',
        'eeeeeeee-eeee-eeee-eeee-eeeeeeeeeee1', 'Gloves are low: 2 left (threshold 5).'
    ),
    (select r.alert_id from raised as r),
    'raising the same alert again returns the open one'
);

select is(
    (
        select count(*)::int from public.alerts
        where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'
    ),
    1,
    'and opens no second alert'
);

select isnt(
    private.raise_alert(
        'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'low_stock', 'inventory_item',
        'eeeeeeee-eeee-eeee-eeee-eeeeeeeeeee2', 'Masks are low: 0 left (threshold 10).', 'critical'
    ),
    (select r.alert_id from raised as r),
    'another subject gets its own alert'
);

select is(
    private.resolve_open_alert(
        'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'low_stock', 'inventory_item',
        'eeeeeeee-eeee-eeee-eeee-eeeeeeeeeee1'
    ),
    (select r.alert_id from raised as r),
    'the system resolves the open alert of a subject'
);

select results_eq(
    $$select a.resolved_at, a.resolved_by from public.alerts as a where a.id = (select r.alert_id from raised as r)$$,
    $$values (now(), null::uuid)$$,
    'resolved by the system: a time and nobody'
);

select isnt(
    private.raise_alert(
        'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'low_stock', 'inventory_item',
        'eeeeeeee-eeee-eeee-eeee-eeeeeeeeeee1', 'Gloves are low again: 1 left (threshold 5).'
    ),
    (select r.alert_id from raised as r),
    'after resolution the same subject can raise a new alert'
);

select is(
    (
        select count(*)::int from public.alerts
        where subject_id = 'eeeeeeee-eeee-eeee-eeee-eeeeeeeeeee1'
    ),
    2,
    'history is kept: the resolved alert and the new open one'
);

select throws_ok(
    $$
        insert into public.alerts (workspace_id, kind, subject_type, subject_id, text)
        values (
            'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'low_stock', 'inventory_item',
            'eeeeeeee-eeee-eeee-eeee-eeeeeeeeeee1', 'A duplicate'
        )
    $$,
    '23505',
    null,
    'the unique index refuses a second open alert written directly'
);

select * from finish();
rollback;
