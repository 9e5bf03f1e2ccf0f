begin;
select plan(10);

select tests.create_user('11111111-1111-1111-1111-111111111111', 'owner@example.test', 'Olive Owner');
select tests.create_user('22222222-2222-2222-2222-222222222222', 'staff@example.test', 'Sam Staff');
select tests.create_workspace(
    'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'north-clinic', '11111111-1111-1111-1111-111111111111', 'North Clinic'
);
select tests.add_member('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '22222222-2222-2222-2222-222222222222');
insert into public.contacts (id, workspace_id, name, email) values
('c0000000-0000-0000-0000-00000000000a', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'Ann Lee', 'ann@example.test'),
('c0000000-0000-0000-0000-00000000000b', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'Bo Ng', 'bo@example.test');
select tests.write_events();
update public.conversations set last_message_at = now() - interval '1 day';

create temp table target as
select
    c.contact_id,
    c.id
from public.conversations as c;
grant select on target to authenticated;

create function pg_temp.receive(p_contact text, p_key text, p_at timestamptz)
returns void
language sql
as $$
    insert into public.messages (
        workspace_id, conversation_id, direction, channel, kind, body, recipient, status, idempotency_key, created_at
    )
    select
        'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', t.id, 'inbound', 'email', 'manual', 'Hello', 'ann@example.test',
        'received', p_key, p_at
    from target as t where t.contact_id = p_contact::uuid;
$$;

select pg_temp.receive('c0000000-0000-0000-0000-00000000000a', 'in:1', now() - interval '2 hours');
select pg_temp.receive('c0000000-0000-0000-0000-00000000000a', 'in:2', now() - interval '1 hour');
select pg_temp.receive('c0000000-0000-0000-0000-00000000000b', 'in:3', now() - interval '3 hours');

select results_eq(
    $$
        select t.contact_id, c.unread_count, c.last_message_at
        from public.conversations as c inner join target as t on c.id = t.id
        order by c.last_message_at desc
    $$,
    $$
        values
        ('c0000000-0000-0000-0000-00000000000a'::uuid, 2, now() - interval '1 hour'),
        ('c0000000-0000-0000-0000-00000000000b'::uuid, 1, now() - interval '3 hours')
    $$,
    'each inbound message raises its conversation''s unread count and moves it up the inbox'
);

select pg_temp.receive('c0000000-0000-0000-0000-00000000000b', 'in:4', now() - interval '5 hours');
select is(
    (
        select c.last_message_at from public.conversations as c
        where c.contact_id = 'c0000000-0000-0000-0000-00000000000b'
    ),
    now() - interval '3 hours',
    'a late-arriving older message counts as unread but does not move the conversation back'
);

-- Read state is the workspace's: staff reads, the owner sees it read.
select tests.authenticate_as('22222222-2222-2222-2222-222222222222');
select is(
    (
        select r.unread_count from public.mark_conversation_read(
            (
                select t.id from target as t
                where t.contact_id = 'c0000000-0000-0000-0000-00000000000a'
            )
        ) as r
    ),
    0,
    'mark_conversation_read clears the count'
);
select is(
    (
        select r.unread_count from public.mark_conversation_read(
            (
                select t.id from target as t
                where t.contact_id = 'c0000000-0000-0000-0000-00000000000a'
            )
        ) as r
    ),
    0,
    'and is idempotent'
);
select tests.clear_authentication();

select tests.authenticate_as('11111111-1111-1111-1111-111111111111');
select is(
    (
        select sum(c.unread_count)::int from public.conversations as c
        where c.unread_count > 0
    ),
    2,
    'the owner sees the unread total without what staff read (shared read state)'
);
select tests.clear_authentication();

select tests.authenticate_without_user();
select throws_ok(
    $$select public.mark_conversation_read((select t.id from target as t limit 1))$$,
    'PT401', 'not_authenticated', 'no signed-in user: not_authenticated'
);
select tests.clear_authentication();

-- Outbound messages never count as unread.
select tests.authenticate_as('11111111-1111-1111-1111-111111111111');
select public.send_message(
    (
        select t.id from target as t
        where t.contact_id = 'c0000000-0000-0000-0000-00000000000a'
    ), 'Reply', 'email'
);
select tests.clear_authentication();
select is(
    (
        select c.unread_count from public.conversations as c
        where c.contact_id = 'c0000000-0000-0000-0000-00000000000a'
    ),
    0,
    'a reply does not count as unread'
);

-- The inbox screen's three queries, as a member with the workspace filter the frontend sends,
-- can each be served by an index (sequential scans off: these tables are tiny here).
set local enable_seqscan = off;
select tests.authenticate_as('22222222-2222-2222-2222-222222222222');

create function pg_temp.plan_of(p_sql text)
returns text
language plpgsql
as $$
declare
    v_line text;
    v_plan text := '';
begin
    for v_line in execute 'explain (costs off) ' || p_sql loop
        v_plan := v_plan || v_line || E'\n';
    end loop;
    return v_plan;
end
$$;
grant execute on function pg_temp.plan_of(text) to authenticated;

select matches(
    pg_temp.plan_of(
        $$
            select * from public.conversations
            where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'
            order by last_message_at desc nulls last limit 50
        $$
    ),
    'Index Scan using conversations_workspace_id_last_message_at_idx',
    'latest 50 conversations: read in order from (workspace_id, last_message_at desc)'
);
select matches(
    pg_temp.plan_of(
        $$
            select * from public.messages
            where
                workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'
                and conversation_id = '00000000-0000-0000-0000-000000000001'
            order by created_at desc limit 50
        $$
    ),
    'Index Scan using messages_conversation_id_created_at_idx',
    'a conversation''s messages: read in order from (conversation_id, created_at desc)'
);
select matches(
    pg_temp.plan_of(
        $$
            select coalesce(sum(unread_count), 0) from public.conversations
            where workspace_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa' and unread_count > 0
        $$
    ),
    'Index Only Scan using conversations_workspace_id_unread_idx',
    'the unread total: only the conversations with something unread, from the partial index'
);
select tests.clear_authentication();

select * from finish();
rollback;
