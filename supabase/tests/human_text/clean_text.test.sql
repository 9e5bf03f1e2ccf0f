begin;
select plan(22);

-- The shared rule: trimmed, no control characters, one visible character, capped.
select ok(private.is_clean_text('North Clinic', 120), 'a plain name is clean');
select ok(private.is_clean_text('Zoë''s Salon & Spa — Nord', 120), 'accents, quotes and dashes are clean');
select ok(private.is_clean_text('診療所', 120), 'non-Latin scripts are clean');
select ok(private.is_clean_text(repeat('a', 120), 120), 'exactly the cap is clean');
select ok(not private.is_clean_text(repeat('a', 121), 120), 'one over the cap is not');
select ok(not private.is_clean_text('', 120), 'empty is not clean');
select ok(not private.is_clean_text(null, 120), 'null is not clean');
select ok(not private.is_clean_text(E'Clinic\r\nBcc: everyone@example.org', 120), 'CR LF header injection is refused');
select ok(not private.is_clean_text(E'\t\u200b', 120), 'a tab and a zero-width space show nothing');
select ok(not private.is_clean_text(U&'\200B\200B', 120), 'only zero-width spaces show nothing');
select ok(not private.is_clean_text(U&'\3000', 120), 'an ideographic space shows nothing');
select ok(not private.is_clean_text(' North', 120), 'a leading space is not trimmed');
select ok(not private.is_clean_text(U&'North\FEFF', 120), 'a trailing BOM is not trimmed');
select ok(not private.is_clean_text(U&'evil\202Etxt.exe', 120), 'a bidi override is refused');
select ok(not private.is_clean_text(U&'a\0085b', 120), 'a C1 control (NEL) is refused');
select ok(not private.is_clean_text(U&'a\2028b', 120), 'a line separator is refused');

-- clean_text trims invisible edges and raises the column's code.
select is(private.clean_text(U&'  North Clinic\200B ', 120, 'invalid_name'), 'North Clinic', 'clean_text trims');
select throws_ok(
    $$select private.clean_text(E'\t\u200b', 120, 'invalid_name')$$,
    'PT400', 'invalid_name', 'nothing visible: the given code'
);

-- Tables: create_workspace and direct owner updates use it; the check is a backstop.
select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select tests.authenticate_as('11111111-1111-1111-1111-111111111111');
select throws_ok(
    $$select public.create_workspace(E'Clinic\r\nBcc: everyone@example.org', 'north-clinic', 'UTC')$$,
    'PT400', 'invalid_name', 'create_workspace refuses a header injection'
);
select is(
    (select w.name from public.create_workspace(U&'\00A0North Clinic ', 'north-clinic', 'UTC') as w),
    'North Clinic',
    'create_workspace stores the trimmed name'
);
select throws_ok(
    $$update public.workspaces set name = E'\t\u200b' where slug = 'north-clinic'$$,
    'PT400', 'invalid_name', 'an owner update to an invisible name is refused'
);
select throws_ok(
    $$update public.profiles set full_name = E'Olive\nOwner' where id = '11111111-1111-1111-1111-111111111111'$$,
    'PT400', 'invalid_full_name', 'a profile name with a newline is refused'
);

select * from finish();
rollback;
