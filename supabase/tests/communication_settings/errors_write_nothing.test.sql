begin;
select plan(12);

select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select tests.create_workspace(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'north-clinic', '11111111-1111-1111-1111-111111111111'
);
update public.communication_settings
set sender_name = 'North', sender_email = 'north@example.test', sms_from_number = '+14155550100'
where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa';

create temp table before on commit drop as select * from public.communication_settings;
grant select on before to authenticated;

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');

select throws_ok(
    $$update public.communication_settings set sender_email = 'north.example.test'$$,
    'PT400', 'invalid_email', 'a sender email without @: invalid_email'
);
select throws_ok(
    $$update public.communication_settings set reply_to_email = 'reply@localhost'$$,
    'PT400', 'invalid_email', 'a reply-to without a domain: invalid_email'
);
select throws_ok(
    $$update public.communication_settings set sms_from_number = '06 12 34 56 78'$$,
    'PT400', 'invalid_phone', 'a national number: invalid_phone'
);
select throws_ok(
    $$update public.communication_settings set sms_from_number = '+1 415 555 01OO'$$,
    'PT400', 'invalid_phone', 'letters in the number: invalid_phone'
);
select throws_ok(
    $$update public.communication_settings set sender_name = E'North\nClinic'$$,
    'PT400', 'invalid_sender_name', 'a line break in the sender name: invalid_sender_name'
);
select throws_ok(
    $$update public.communication_settings set sender_name = repeat('n', 121)$$,
    'PT400', 'invalid_sender_name', 'a sender name over 120 characters: invalid_sender_name'
);
select throws_ok(
    $$update public.communication_settings set workspace_id = workspace_id$$,
    '42501', null, 'the workspace cannot be changed'
);
select throws_ok(
    $$insert into public.communication_settings (workspace_id) values ('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa')$$,
    '42501', null, 'owners cannot add a settings row'
);
select throws_ok(
    $$delete from public.communication_settings$$,
    '42501', null, 'owners cannot delete the settings row'
);
select tests.clear_authentication();

select results_eq(
    'select * from public.communication_settings',
    'select * from before',
    'nothing was written'
);

-- The check constraints hold even for writers that skip the trigger's normalisation.
alter table public.communication_settings disable trigger communication_settings_validate;
select throws_ok(
    $$update public.communication_settings set sms_from_number = '+1 415 555 0100'$$,
    '23514', null, 'the check constraint refuses a number that is not E.164'
);
select throws_ok(
    $$update public.communication_settings set sender_email = 'North@Example.test'$$,
    '23514', null, 'the check constraint refuses an address that is not normalised'
);

select * from finish();
rollback;
