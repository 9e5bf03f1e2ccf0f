begin;
select plan(1);

-- One line per careops_ job: name, schedule, command, active.
select is(
    (
        select array_agg(format('%s | %s | %s | %s', j.jobname, j.schedule, j.command, j.active) order by j.jobname)
        from cron.job as j
        where j.jobname like 'careops\_%'
    ),
    array[
        'careops_check_low_stock | 5 * * * * | select private.check_low_stock() | t',
        'careops_fill_dashboard_days | */10 * * * * | select private.fill_dashboard_days() | t',
        'careops_mark_overdue_forms | 35 * * * * | select private.mark_overdue_forms() | t',
        'careops_prune_anonymous_actions | 17 4 * * * | select private.prune_anonymous_actions() | t',
        'careops_prune_queue_archive | 17 3 * * * | select private.prune_queue_archive() | t',
        'careops_release_pending_bookings | 45 * * * * | select private.release_pending_bookings() | t',
        'careops_send_due_reminders | */30 * * * * | select private.send_due_reminders() | t'
    ],
    'the careops_ schedules are registered in cron.job, each once'
);

select * from finish();
rollback;
