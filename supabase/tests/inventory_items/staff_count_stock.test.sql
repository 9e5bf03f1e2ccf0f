begin;
select plan(11);

select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select tests.create_user('22222222-2222-2222-2222-222222222222', 'staff@example.test', 'Sam Staff');
select tests.create_workspace(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'north-clinic', '11111111-1111-1111-1111-111111111111'
);
select tests.add_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '22222222-2222-2222-2222-222222222222');

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');
select lives_ok(
    $$
        insert into public.inventory_items (workspace_id, name, unit, quantity, low_stock_threshold)
        values ('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', ' Gloves ', 'pairs', 40, 5)
    $$,
    'the owner adds an item'
);
select throws_ok(
    $$update public.inventory_items set quantity = -1$$,
    'PT400', 'invalid_quantity', 'a negative quantity: invalid_quantity'
);
select throws_ok(
    $$update public.inventory_items set low_stock_threshold = -1$$,
    'PT400', 'invalid_threshold', 'a negative threshold: invalid_threshold'
);
select throws_ok(
    $$update public.inventory_items set unit = ' '$$,
    'PT400', 'invalid_unit', 'a blank unit: invalid_unit'
);

select tests.authenticate_as('22222222-2222-2222-2222-222222222222');
select is(tests.affected($$update public.inventory_items set quantity = 38.5$$), 1, 'staff count stock');
select throws_ok(
    $$update public.inventory_items set low_stock_threshold = 0$$,
    'PT403', 'forbidden', 'staff cannot change the threshold'
);
select throws_ok(
    $$update public.inventory_items set name = 'Mine', quantity = 1$$,
    'PT403', 'forbidden', 'staff cannot rename an item, even along with a count'
);
select throws_ok(
    $$insert into public.inventory_items (workspace_id, name) values ('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'x')$$,
    '42501', null, 'staff cannot add items'
);
select is(tests.affected($$delete from public.inventory_items$$), 0, 'staff cannot delete items');
select throws_ok(
    $$update public.inventory_items set workspace_id = workspace_id$$,
    '42501', null, 'nobody moves an item to another workspace'
);
select tests.clear_authentication();

select results_eq(
    $$select name, unit, quantity, low_stock_threshold, active from public.inventory_items$$,
    $$values ('Gloves', 'pairs', 38.5, 5::numeric, true)$$,
    'only the count changed'
);

select * from finish();
rollback;
