-- Queue retention: archived pgmq jobs and pg_cron's run history are pruned daily.

create function private.prune_queue_archive(p_keep interval default interval '7 days')
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_queue text;
    v_deleted bigint;
    v_archived bigint := 0;
    v_cron_runs bigint;
begin
    if p_keep is null or p_keep < interval '1 hour' then
        raise exception 'keep at least one hour of history, not %', p_keep using errcode = '22023';
    end if;
    -- Every queue's archive (pgmq.a_<queue>), through its archived_at index.
    for v_queue in select m.queue_name from pgmq.meta as m order by m.queue_name loop
        execute pg_catalog.format('delete from pgmq.%I where archived_at < $1', 'a_' || v_queue)
        using now() - p_keep;
        get diagnostics v_deleted = row_count;
        v_archived := v_archived + v_deleted;
    end loop;
    delete from cron.job_run_details as d where d.end_time < now() - p_keep;
    get diagnostics v_cron_runs = row_count;
    return pg_catalog.jsonb_build_object('archived_jobs', v_archived, 'cron_runs', v_cron_runs);
end
$$;

comment on function private.prune_queue_archive(interval) is
'Daily (careops_prune_queue_archive): deletes archived jobs of every pgmq queue and pg_cron run details older than p_keep (default 7 days); returns the counts. Safe to run twice or concurrently.';

revoke execute on function private.prune_queue_archive(interval) from public;
grant execute on function private.prune_queue_archive(interval) to service_role;

-- Installed idempotently: unschedule by name, schedule again.
select cron.unschedule(j.jobid)
from cron.job as j
where j.jobname = 'careops_prune_queue_archive';
select cron.schedule('careops_prune_queue_archive', '17 3 * * *', 'select private.prune_queue_archive()');
