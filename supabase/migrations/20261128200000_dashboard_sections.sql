-- Dashboard sections: bookings, leads, forms, inventory and alerts join the workspace,
-- members and invitations of private.dashboard_stats_at (20261127100100_dashboard_stats.sql).
--
-- Still one call and security invoker: every section reads its table under the caller's RLS
-- and filters on the workspace, so each read is an index range scan of that workspace's
-- rows in a time window (or a partial index of the rows that are open), never the table.
-- Days are the workspace's local days (private.local_day), so "today" and "the next 7 days"
-- follow its wall clock, DST included.

-- Indexes the sections read through -----------------------------------------------------------

-- New contacts in the last 7/30 days: an index-only range scan of the workspace's newest contacts.
create index contacts_workspace_id_created_at_idx on public.contacts (workspace_id, created_at);

-- Bookings of today, the next 7 days and the last 30 days by status: the range of the
-- workspace's bookings by start, with status and practitioner in the index, so the counts
-- are an index-only scan (bookings_workspace_id_starts_at_idx would visit every row's heap page).
create index bookings_workspace_id_starts_at_status_idx on public.bookings (workspace_id, starts_at)
include (status, practitioner_id);

-- Unread conversations and unread messages: conversations_workspace_id_unread_idx (the inbox
-- migration) holds only the conversations with something unread.

-- Pending and overdue forms: only the open submissions.
create index form_submissions_open_idx on public.form_submissions (workspace_id, status)
where (status in ('pending', 'overdue'));

-- Forms completed in the last 30 days.
create index form_submissions_workspace_id_completed_at_idx on public.form_submissions (workspace_id, completed_at)
where (completed_at is not null);

-- Open alerts, newest first (resolved ones are history and stay out of the index).
create index alerts_open_workspace_id_created_at_idx on public.alerts (workspace_id, created_at desc)
where (resolved_at is null);

-- The function -------------------------------------------------------------------------------

create or replace function private.dashboard_stats_at(p_workspace_id uuid, p_at timestamptz)
returns jsonb
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
    v_is_service boolean := (select auth.role()) is not distinct from 'service_role';
    v_workspace public.workspaces;
    v_today date;
    v_day_start timestamptz;
    v_day_end timestamptz;
    v_week_end timestamptz;
    v_week_ago timestamptz := p_at - interval '7 days';
    v_month_ago timestamptz := p_at - interval '30 days';
    v_stats jsonb;
    v_bookings jsonb;
    v_by_practitioner jsonb;
    v_leads jsonb;
    v_conversations jsonb;
    v_forms jsonb;
    v_inventory jsonb;
    v_alerts jsonb;
begin
    if not v_is_service and (select auth.uid()) is null then
        perform private.raise_error('not_authenticated');
    end if;
    -- RLS decides: a workspace the caller is not a member of is not found.
    select w.* into v_workspace from public.workspaces as w where w.id = p_workspace_id;
    if not found then
        perform private.raise_error('not_found', 'No such workspace, or you are not a member of it.');
    end if;
    select d.local_date, d.starts_at, d.ends_at into v_today, v_day_start, v_day_end
    from private.local_day(v_workspace.timezone, p_at) as d;
    -- The end of the 7th local day after today (wall clock, so DST days are 23 or 25 hours).
    v_week_end := (v_today + 8)::timestamp at time zone v_workspace.timezone;

    v_stats := pg_catalog.jsonb_build_object(
        'workspace', pg_catalog.jsonb_build_object(
            'id', v_workspace.id,
            'name', v_workspace.name,
            'timezone', v_workspace.timezone,
            'status', v_workspace.status,
            'today_local', v_today
        ),
        'members', (
            select pg_catalog.jsonb_build_object(
                'owners', count(*) filter (where m.role = 'owner'),
                'staff', count(*) filter (where m.role = 'staff')
            )
            from public.workspace_members as m
            where m.workspace_id = p_workspace_id
        ),
        -- Only owners read invitations: staff get null, not a misleading 0.
        'invitations', case when v_is_service or private.has_role(p_workspace_id, 'owner') then (
            select pg_catalog.jsonb_build_object('pending', count(*))
            from public.invitations as i
            where
                i.workspace_id = p_workspace_id
                and i.accepted_at is null
                and i.revoked_at is null
                and i.expires_at > p_at
        ) end
    );

    -- Bookings: three ranges of the workspace's bookings by start (index-only scans; three
    -- narrow scans cost less than one wide scan that tests every row against every window).
    -- Today and the next 7 days count what takes place (not cancelled); the last 30 days count
    -- outcomes of the bookings that started in [p_at - 30 days, p_at).
    select pg_catalog.jsonb_build_object(
        'today', (
            select count(*) from public.bookings as b
            where
                b.workspace_id = p_workspace_id
                and b.starts_at >= v_day_start
                and b.starts_at < v_day_end
                and b.status <> 'cancelled'
        ),
        'next_7_days', (
            select count(*) from public.bookings as b
            where
                b.workspace_id = p_workspace_id
                and b.starts_at >= v_day_end
                and b.starts_at < v_week_end
                and b.status <> 'cancelled'
        ),
        'last_30_days', (
            select pg_catalog.jsonb_build_object(
                'completed', coalesce(sum(o.bookings) filter (where o.status = 'completed'), 0),
                'no_show', coalesce(sum(o.bookings) filter (where o.status = 'no_show'), 0),
                'cancelled', coalesce(sum(o.bookings) filter (where o.status = 'cancelled'), 0)
            )
            from (
                select b.status, count(*) as bookings
                from public.bookings as b
                where b.workspace_id = p_workspace_id and b.starts_at >= v_month_ago and b.starts_at < p_at
                group by b.status
            ) as o
        )
    )
    into v_bookings;

    -- Today per practitioner: every active practitioner (0 included), and an inactive one who
    -- still holds bookings today.
    select coalesce(
        pg_catalog.jsonb_agg(
            pg_catalog.jsonb_build_object(
                'practitioner_id', p.id,
                'full_name', coalesce(pr.full_name, ''),
                'bookings', coalesce(t.bookings, 0)
            )
            order by coalesce(t.bookings, 0) desc, pr.full_name, p.id
        ),
        '[]'::jsonb
    )
    into v_by_practitioner
    from public.practitioners as p
    left join public.profiles as pr on p.user_id = pr.id
    left join (
        select b.practitioner_id, count(*) as bookings
        from public.bookings as b
        where
            b.workspace_id = p_workspace_id
            and b.starts_at >= v_day_start
            and b.starts_at < v_day_end
            and b.status <> 'cancelled'
        group by b.practitioner_id
    ) as t on p.id = t.practitioner_id
    where p.workspace_id = p_workspace_id and (p.active or t.bookings is not null);

    -- Leads: contacts created in the last 7 and 30 days; conversations with a message in the
    -- last 30 days (open), with something unread, and the unread messages they hold.
    select pg_catalog.jsonb_build_object(
        'new_contacts_7_days', count(*) filter (where c.created_at >= v_week_ago),
        'new_contacts_30_days', count(*)
    )
    into v_leads
    from public.contacts as c
    where c.workspace_id = p_workspace_id and c.created_at >= v_month_ago and c.created_at <= p_at;

    select pg_catalog.jsonb_build_object(
        'open_conversations', (
            select count(*)
            from public.conversations as c
            where c.workspace_id = p_workspace_id and c.last_message_at >= v_month_ago
        ),
        'unread_conversations', count(*),
        'unread_messages', coalesce(sum(u.unread_count), 0)
    )
    into v_conversations
    from public.conversations as u
    where u.workspace_id = p_workspace_id and u.unread_count > 0;

    -- Forms: open submissions by status (each a range of the partial index), and those
    -- completed in the last 30 days.
    select pg_catalog.jsonb_build_object(
        'pending', (
            select count(*) from public.form_submissions as f
            where f.workspace_id = p_workspace_id and f.status = 'pending'
        ),
        'overdue', (
            select count(*) from public.form_submissions as f
            where f.workspace_id = p_workspace_id and f.status = 'overdue'
        ),
        'completed_30_days', (
            select count(*) from public.form_submissions as f
            where
                f.workspace_id = p_workspace_id
                and f.completed_at is not null
                and f.completed_at >= v_month_ago
                and f.completed_at <= p_at
        )
    )
    into v_forms;

    -- Inventory: active items, and those at or below their threshold (at most 20 listed, the
    -- emptiest relative to its threshold first).
    select pg_catalog.jsonb_build_object(
        'items', (
            select count(*) from public.inventory_items as i
            where i.workspace_id = p_workspace_id and i.active
        ),
        'low_stock_count', count(*),
        'low_stock', coalesce(
            pg_catalog.jsonb_agg(
                pg_catalog.jsonb_build_object(
                    'id', l.id,
                    'name', l.name,
                    'unit', l.unit,
                    'quantity', l.quantity,
                    'low_stock_threshold', l.low_stock_threshold
                )
                order by l.rank
            ) filter (where l.rank <= 20),
            '[]'::jsonb
        )
    )
    into v_inventory
    from (
        select
            i.id,
            i.name,
            i.unit,
            i.quantity,
            i.low_stock_threshold,
            row_number() over (
                order by i.quantity / nullif(i.low_stock_threshold, 0) nulls first, i.name, i.id
            ) as rank
        from public.inventory_items as i
        where i.workspace_id = p_workspace_id and i.active and i.quantity <= i.low_stock_threshold
    ) as l;

    -- Alerts: open ones by kind (only kinds that have one), and the 5 newest.
    select pg_catalog.jsonb_build_object(
        'open', coalesce(sum(k.open), 0),
        'open_by_kind', coalesce(pg_catalog.jsonb_object_agg(k.kind, k.open), '{}'::jsonb),
        'newest', coalesce(
            (
                select pg_catalog.jsonb_agg(
                    pg_catalog.jsonb_build_object(
                        'id', n.id,
                        'kind', n.kind,
                        'severity', n.severity,
                        'text', n.text,
                        'subject_type', n.subject_type,
                        'subject_id', n.subject_id,
                        'created_at', n.created_at
                    )
                    order by n.created_at desc, n.id
                )
                from (
                    select a.id, a.kind, a.severity, a.text, a.subject_type, a.subject_id, a.created_at
                    from public.alerts as a
                    where a.workspace_id = p_workspace_id and a.resolved_at is null
                    order by a.created_at desc, a.id
                    limit 5
                ) as n
            ),
            '[]'::jsonb
        )
    )
    into v_alerts
    from (
        select a.kind, count(*) as open
        from public.alerts as a
        where a.workspace_id = p_workspace_id and a.resolved_at is null
        group by a.kind
    ) as k;

    return v_stats || pg_catalog.jsonb_build_object(
        'bookings', v_bookings || pg_catalog.jsonb_build_object('today_by_practitioner', v_by_practitioner),
        'leads', v_leads || v_conversations,
        'forms', v_forms,
        'inventory', v_inventory,
        'alerts', v_alerts
    );
end
$$;

comment on function private.dashboard_stats_at(uuid, timestamptz) is
'dashboard_stats as of the instant p_at (tests pin it; the RPC passes now()), under the caller''s RLS. '
'Errors: not_authenticated, not_found.';

comment on function public.dashboard_stats(uuid) is
'The staff dashboard of a workspace in one call, under the caller''s RLS: '
'workspace {id, name, timezone, status, today_local}, members {owners, staff}, invitations {pending} (null for staff); '
'bookings {today, next_7_days, last_30_days {completed, no_show, cancelled}, today_by_practitioner}; '
'leads {new_contacts_7_days, new_contacts_30_days, open_conversations, unread_conversations, unread_messages}; '
'forms {pending, overdue, completed_30_days}; inventory {items, low_stock_count, low_stock}; '
'alerts {open, open_by_kind, newest}. Days are the workspace''s local days. '
'Errors: not_authenticated, not_found (also for workspaces the caller is not a member of).';
