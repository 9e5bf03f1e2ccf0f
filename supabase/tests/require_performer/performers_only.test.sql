begin;
select plan(5);

select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select tests.create_user('22222222-2222-2222-2222-222222222222', 'staff@example.test', 'Sam Staff');
select tests.create_bookable_workspace(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'performers-clinic', '11111111-1111-1111-1111-111111111111'
) as type_id \gset
select tests.add_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '22222222-2222-2222-2222-222222222222');
insert into public.practitioners (workspace_id, user_id)
values ('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '22222222-2222-2222-2222-222222222222')
on conflict do nothing;
select p.id as owner_practitioner
from public.practitioners as p
where p.user_id = '11111111-1111-1111-1111-111111111111' \gset
select p.id as staff_practitioner
from public.practitioners as p
where p.user_id = '22222222-2222-2222-2222-222222222222' \gset

select lives_ok(
    format('select private.require_performer(%L, %L)', :'type_id', :'owner_practitioner'),
    'an active practitioner who performs the type passes'
);
select is(
    tests.caught(format('select private.require_performer(%L, %L)', :'type_id', :'staff_practitioner')) ->> 'message',
    'not_found',
    'a practitioner of the workspace who does not perform the type is not_found'
);
select is(
    tests.caught(format('select private.require_performer(%L, %L)', :'type_id', gen_random_uuid())) ->> 'message',
    'not_found',
    'an unknown id is not_found'
);
update public.practitioners set active = false
where id = :'owner_practitioner';
select is(
    tests.caught(format('select private.require_performer(%L, %L)', :'type_id', :'owner_practitioner')) ->> 'message',
    'not_found',
    'an inactive performer is not_found'
);
-- The three callers name practitioners through it: the public page, the booking and the move.
select is(
    (
        select array_agg(p.proname::text order by p.proname)
        from pg_catalog.pg_proc as p
        where
            p.pronamespace in ('public'::regnamespace, 'private'::regnamespace)
            and p.prosrc like '%private.require_performer(%'
    ),
    array['public_booking_target', 'reschedule_booking'],
    'public_booking_target (get_available_slots, book_appointment) and reschedule_booking call it'
);

select * from finish();
rollback;
