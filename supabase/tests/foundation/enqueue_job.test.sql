begin;
create extension if not exists pgtap with schema extensions;
select plan(3);

select isnt(
    private.enqueue_job('probe', '{"n": 1}'::jsonb),
    null,
    'enqueue_job returns the message id'
);

select is(
    (select message from pgmq.read('jobs', 0, 1)),
    '{"kind": "probe", "payload": {"n": 1}}'::jsonb,
    'the job carries its kind and payload'
);

select ok(
    private.enqueue_job('later', '{}'::jsonb, 3600) is not null
    and not exists (
        select 1 from pgmq.read('jobs', 0, 10) as m
        where m.message ->> 'kind' = 'later'
    ),
    'a delayed job stays invisible until its delay'
);

select * from finish();
rollback;
