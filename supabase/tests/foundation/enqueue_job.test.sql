begin;
create extension if not exists pgtap with schema extensions;
select plan(3);

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

select * from finish();
rollback;
