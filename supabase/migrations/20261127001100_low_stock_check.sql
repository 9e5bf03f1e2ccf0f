-- Low stock: hourly, every active item at or below its threshold has one open alert and its
-- workspace's owners one email notice per alert; the alert resolves itself once the item is
-- above its threshold again (or inactive, or deleted).

-- Only the items that are low: the hourly check reads these, not the whole table.
create index inventory_items_low_stock_idx on public.inventory_items (workspace_id)
where (active and quantity <= low_stock_threshold);

create function private.check_low_stock()
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_item record;
    v_alert_id uuid;
    v_raised integer := 0;
    v_resolved integer;
begin
    with resolved as (
        update public.alerts as a
        set resolved_at = now()
        where
            a.kind = 'low_stock'
            and a.resolved_at is null
            and not exists (
                select 1 from public.inventory_items as i
                where i.id = a.subject_id and i.active and i.quantity <= i.low_stock_threshold
            )
        returning a.id
    )

    select count(*) into v_resolved from resolved;

    for v_item in
        select i.id, i.workspace_id, i.name, i.unit, i.quantity, i.low_stock_threshold, w.name as workspace_name
        from public.inventory_items as i
        inner join public.workspaces as w on i.workspace_id = w.id
        where
            i.active
            and i.quantity <= i.low_stock_threshold
            and not exists (
                select 1 from public.alerts as a
                where
                    a.workspace_id = i.workspace_id
                    and a.kind = 'low_stock'
                    and a.subject_type = 'inventory_item'
                    and a.subject_id = i.id
                    and a.resolved_at is null
            )
        order by i.id
    loop
        -- A concurrent run waits on the open-alert index here and gets the same alert.
        v_alert_id := private.raise_alert(
            v_item.workspace_id, 'low_stock', 'inventory_item', v_item.id,
            left(
                format(
                    '%s is low: %s %s left (threshold %s).',
                    v_item.name, v_item.quantity, v_item.unit, v_item.low_stock_threshold
                ),
                500
            )
        );
        perform private.queue_member_notice(
            v_item.workspace_id,
            m.user_id,
            'low_stock',
            pg_catalog.jsonb_build_object(
                'workspace_name', v_item.workspace_name,
                'item_name', v_item.name,
                'unit', v_item.unit,
                'quantity', v_item.quantity::text,
                'threshold', v_item.low_stock_threshold::text
            ),
            format('low_stock:%s:%s', v_alert_id, m.user_id)
        )
        from public.workspace_members as m
        where m.workspace_id = v_item.workspace_id and m.role = 'owner'
        order by m.user_id;
        -- Counted when this run opened it (a concurrent run's alert has its own now()).
        if (select a.created_at from public.alerts as a where a.id = v_alert_id) = now() then
            v_raised := v_raised + 1;
        end if;
    end loop;
    return pg_catalog.jsonb_build_object('raised', v_raised, 'resolved', v_resolved);
end
$$;

comment on function private.check_low_stock() is
'Hourly (careops_check_low_stock): raises one low_stock alert per active item at or below its threshold with an email notice to each owner, and resolves the alerts of items above it again; returns how many of each. Safe to run twice or concurrently.';

revoke execute on function private.check_low_stock() from public;
grant execute on function private.check_low_stock() to service_role;

select cron.unschedule(j.jobid)
from cron.job as j
where j.jobname = 'careops_check_low_stock';
select cron.schedule('careops_check_low_stock', '5 * * * *', 'select private.check_low_stock()');
