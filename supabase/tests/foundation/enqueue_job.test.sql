begin;
create extension if not exists pgtap with schema extensions;
select plan(6);

create temp table probe as
select private.enqueue_job('probe', '{"n": 1}'::jsonb) as msg_id;

select isnt((select msg_id from probe), null, 'enqueue_job returns the message id');

select is(
    (
        select q.message from pgmq.q_jobs as q
        where q.msg_id = (select p.msg_id from probe as p)
    ),
    '{"kind": "probe", "payload": {"n": 1}}'::jsonb,
    'the job carries its kind and payload'
);

insert into probe (msg_id) values (private.enqueue_job('later', '{}'::jsonb, 3600));

select ok(
    (
        select q.vt > now() + interval '59 minutes'
        from pgmq.q_jobs as q
        where q.msg_id = (select max(p.msg_id) from probe as p)
    ),
    'a delayed job stays invisible until its delay'
);

-- The outbox's events have their own queue (the worker reads it in its own loop).
create temp table event_probe as
select private.enqueue_job('message_events', '{"events": []}'::jsonb) as msg_id;

select is(
    (
        select q.message from pgmq.q_events as q
        where q.msg_id = (select p.msg_id from event_probe as p)
    ),
    '{"kind": "message_events", "payload": {"events": []}}'::jsonb,
    'message_events jobs go to the events queue'
);

delete from pgmq.q_events;

select is(
    private.enqueue_jobs('message_events', array['{"events": []}'::jsonb, '{"events": []}'::jsonb]),
    2,
    'enqueue_jobs queues a batch of message_events'
);

select is((select count(*)::integer from pgmq.q_events), 2, 'on the events queue too');

select * from finish();
rollback;
