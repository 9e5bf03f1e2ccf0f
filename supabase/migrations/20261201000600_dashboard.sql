-- Dashboard and metrics: dashboard_stats, day rollups, metrics_snapshot.
--
-- One migration per domain, each in the same section order. Until the first hosted release a
-- definition is changed here, in place (docs/development.md, "Migrations"); docs/schema/ shows every object.
-- ==============================================================================================
--
-- Dashboard stats: one function that returns everything the staff dashboard shows in one
-- round trip, to members of the workspace (and service_role).
--
-- public.dashboard_stats(p_workspace_id) is what supabase-js and edge_api call;
-- it asks private.dashboard_stats_at(p_workspace_id, now()), which takes the
-- instant as a parameter so tests can pin "today" (for example just before
-- and after midnight UTC in Pacific/Auckland). Later issues add sections
-- (bookings, leads, forms, inventory, alerts) with `create or replace` of
-- private.dashboard_stats_at; edge_api's response model already has them as
-- optional fields.
--
-- Metrics from the database for edge_api's GET /metrics, in one cheap call.
--
-- private.metrics_snapshot() returns a list of Prometheus gauge families:
--   [{"name": "careops_…", "help": "…", "samples": [{"labels": {…}, "value": n}, …]}, …]
-- edge_api turns each family into a gauge as it is, so a new database metric is
-- one more family here (create or replace), with no Python change. Planned:
-- messages by status and provider, deliveries retried, bookings created today.
-- Definer because service_role reads neither pgmq's tables nor cron's; only
-- service_role may call it (edge_api switches to it for this call).
--
-- Business metrics for GET /metrics: bookings created, forms completed and messages sent
-- today (the UTC day, platform-wide), as Prometheus gauge families.
--
-- They live in their own function, private.business_metric_families(p_at), which
-- private.metrics_snapshot() appends to its families (20261128100000_message_delivery.sql,
-- where metrics_snapshot gains its delivery families), so the two concerns change apart. Each count is a range
-- scan of an index on the day's timestamps, whatever the size of the tables.
--
-- Dashboard sections: bookings, leads, forms, inventory and alerts join the workspace,
-- members and invitations of private.dashboard_stats_at (20261127100100_dashboard_stats.sql).
--
-- Still one call. Every section filters on the workspace, so each read is an index range scan
-- of that workspace's rows in a time window (or a partial index of the rows that are open),
-- never the table. Security definer, with one membership check up front (private.require_role)
-- instead of a policy evaluated on every index entry counted (~0.7 ms of ~4.4 ms on the
-- issue's large workspace): each table it reads lets members read exactly their workspaces'
-- rows (invitations: owners only, which the function applies itself; profiles: co-members',
-- and every practitioner is a member), so a member sees what RLS would show them;
-- tests/test_dashboard_sections.py fails if one of those policies changes.
-- Days are the workspace's local days (private.local_day), so "today" and "the next 7 days"
-- follow its wall clock, DST included.
--
-- Dashboard history from day rollups: the last 30 days (bookings by outcome, new contacts,
-- completed forms) were counted row by row on every dashboard request, ~16,000 index entries
-- on the issue's large workspace. Days that ended more than a day ago rarely change, so a
-- schedule counts each of them once per workspace into private.dashboard_days, and
-- dashboard_stats adds those rows and counts live only what they do not cover: the partial
-- first day of the window, yesterday, today, and any day whose row is missing or stale.
--
-- Exact at every instant: a write that touches a counted day (a past booking marked completed,
-- a contact deleted, ...) marks that day's row stale in its own transaction, so from its
-- commit on the day is counted live again until the schedule recounts it. Each mark adds one
-- to the row's marks, and a recount only replaces the row if its marks are still what the
-- recount read, so a count taken before a concurrent write never overwrites that write's
-- mark (no lock is held meanwhile).

-- Tables --------------------------------------------------------------------------------

create table private.dashboard_days (
    workspace_id uuid not null references public.workspaces (id) on delete cascade,
    local_date date not null,
    -- the zone local_date was cut in: a workspace that changes zone stops using these rows
    timezone text not null,
    stale boolean not null default false,
    -- how many writes marked this day: a recount replaces the row only if none came meanwhile
    marks bigint not null default 0,
    bookings_completed integer not null default 0,
    bookings_no_show integer not null default 0,
    bookings_cancelled integer not null default 0,
    contacts_created integer not null default 0,
    forms_completed integer not null default 0,
    counted_at timestamptz not null default now(),
    primary key (workspace_id, local_date)
);

comment on table private.dashboard_days is
'Per workspace and closed local day: bookings by outcome (by start), contacts created, forms completed. Filled by private.fill_dashboard_days; marked stale by writes to that day; read by dashboard_stats under RLS.';

comment on column private.dashboard_days.timezone is
'The zone local_date was cut in; rows of another zone than the workspace''s are not read.';

comment on column private.dashboard_days.stale is
'A write touched this day after it was counted: dashboard_stats counts the day live until the next fill.';

comment on column private.dashboard_days.marks is
'How many writes marked this day; a recount replaces the row only if it is still what the recount read.';

comment on column private.dashboard_days.counted_at is
'When the counts were taken; rows older than a day are counted again.';

-- Indexes -------------------------------------------------------------------------------

create index bookings_created_at_idx on public.bookings (created_at);

create index form_submissions_completed_at_idx on public.form_submissions (completed_at)
where (completed_at is not null);

create index messages_sent_at_idx on public.messages (sent_at) where (sent_at is not null);

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

-- Functions -----------------------------------------------------------------------------

-- The workspace-local calendar day that contains p_at, and its bounds as
-- instants (23 or 25 hours long on DST change days).
create function private.local_day(p_timezone text, p_at timestamptz)
returns table (local_date date, starts_at timestamptz, ends_at timestamptz)
language sql
stable
security invoker
set search_path = ''
as $$
    select
        d.local_date,
        d.local_date::timestamp at time zone p_timezone,
        (d.local_date + 1)::timestamp at time zone p_timezone
    from (select (p_at at time zone p_timezone)::date as local_date) as d;
$$;

comment on function private.local_day(text, timestamptz) is
'The calendar day in time zone p_timezone that contains p_at: its date and its [starts_at, ends_at) instants.';

-- Reading ---------------------------------------------------------------------------------

-- Who may see a workspace's dashboard, and which view of it: the one copy of that rule, for
-- dashboard_stats_at and for edge_api, which checks it on every request before it answers
-- from its short-lived cache of dashboards (edge_api/dashboard_cache.py).
create function private.dashboard_viewer(p_workspace_id uuid)
returns text
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    v_role text;
begin
    if auth.role() is not distinct from 'service_role' then
        return 'service';
    end if;
    -- A workspace the caller is not a member of is not found (not_authenticated without a user).
    perform private.require_role(p_workspace_id, 'staff');
    select m.role into v_role
    from public.workspace_members as m
    where m.workspace_id = p_workspace_id and m.user_id = (select auth.uid());
    return v_role;
end
$$;

comment on function private.dashboard_viewer(uuid) is
'Which view of the workspace''s dashboard the caller gets: service (service_role), owner or staff (the member''s '
'role; only service and owner see invitations). Errors: not_authenticated, not_found (not a member).';

create function private.dashboard_stats_at(p_workspace_id uuid, p_at timestamptz)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
-- Generic plans, made once per session: the plan cache would otherwise plan some statements
-- again on every call (their custom plans look cheaper than the generic one), which costs more
-- than the statements themselves; the generic plans are the same index range scans.
set plan_cache_mode = force_generic_plan
as $$
declare
    -- not_authenticated or not_found unless the caller may see this dashboard, and which view
    v_sees_invitations boolean := private.dashboard_viewer(p_workspace_id) in ('service', 'owner');
    v_owners bigint;
    v_staff bigint;
    v_workspace public.workspaces;
    v_today date;
    v_day_start timestamptz;
    v_day_end timestamptz;
    v_week_end timestamptz;
    v_week_ago timestamptz := p_at - interval '7 days';
    v_month_ago timestamptz := p_at - interval '30 days';
    v_stats jsonb;
    v_history record;
    v_bookings jsonb;
    v_by_practitioner jsonb;
    v_leads jsonb;
    v_conversations jsonb;
    v_forms jsonb;
    v_inventory jsonb;
    v_alerts jsonb;
begin
    select w.* into v_workspace from public.workspaces as w where w.id = p_workspace_id;
    if not found then
        perform private.raise_error('not_found', 'No such workspace, or you are not a member of it.');
    end if;
    -- private.local_day, inline (a SQL function with a search_path is planned on every call).
    v_today := (p_at at time zone v_workspace.timezone)::date;
    v_day_start := v_today::timestamp at time zone v_workspace.timezone;
    v_day_end := (v_today + 1)::timestamp at time zone v_workspace.timezone;
    -- The end of the 7th local day after today (wall clock, so DST days are 23 or 25 hours).
    v_week_end := (v_today + 8)::timestamp at time zone v_workspace.timezone;

    select
        count(*) filter (where m.role = 'owner'),
        count(*) filter (where m.role = 'staff')
    into v_owners, v_staff
    from public.workspace_members as m
    where m.workspace_id = p_workspace_id;

    v_stats := pg_catalog.jsonb_build_object(
        'workspace', pg_catalog.jsonb_build_object(
            'id', v_workspace.id,
            'name', v_workspace.name,
            'timezone', v_workspace.timezone,
            'status', v_workspace.status,
            'today_local', v_today
        ),
        'members', pg_catalog.jsonb_build_object('owners', v_owners, 'staff', v_staff),
        -- Only owners read invitations: staff get null, not a misleading 0.
        'invitations', case when v_sees_invitations then (
            select pg_catalog.jsonb_build_object('pending', count(*))
            from public.invitations as i
            where
                i.workspace_id = p_workspace_id
                and i.accepted_at is null
                and i.revoked_at is null
                and i.expires_at > p_at
        ) end
    );

    -- The last 30 days: days that closed long enough ago from their private.dashboard_days
    -- rows, everything else counted live: the partial first day, the last two days, today up
    -- to p_at, and any day whose row is missing or stale. Materialized, so the live counts
    -- below bound their index scans with plain values computed once.
    -- Consecutive days counted live are one span (gaps and islands), and each span is one
    -- range scan per table: usually two spans (the partial first day, and yesterday to p_at),
    -- one when no day has a row, rather than a scan per day.
    with days as materialized (
        select
            g.i,
            d.local_date,
            d.starts_at,
            d.ends_at,
            greatest(d.starts_at, v_month_ago) as month_from,
            least(d.ends_at, p_at) as month_to,
            greatest(d.starts_at, v_week_ago) as week_from
        from pg_catalog.generate_series(0, 31) as g (i)
        cross join lateral (
            select
                (v_month_ago at time zone v_workspace.timezone)::date + g.i as local_date,
                ((v_month_ago at time zone v_workspace.timezone)::date + g.i)::timestamp
                at time zone v_workspace.timezone as starts_at,
                ((v_month_ago at time zone v_workspace.timezone)::date + g.i + 1)::timestamp
                at time zone v_workspace.timezone as ends_at
        ) as d
        where d.local_date <= v_today
    ),

    history as materialized (
        select
            d.i,
            d.ends_at,
            d.month_from,
            d.month_to,
            d.week_from,
            r.local_date is not null as counted,
            r.local_date is not null and d.week_from = d.starts_at as counted_week,
            coalesce(r.bookings_completed, 0) as bookings_completed,
            coalesce(r.bookings_no_show, 0) as bookings_no_show,
            coalesce(r.bookings_cancelled, 0) as bookings_cancelled,
            coalesce(r.contacts_created, 0) as contacts_created,
            coalesce(r.forms_completed, 0) as forms_completed
        from days as d
        left join private.dashboard_days as r
            on
                r.workspace_id = p_workspace_id
                and d.local_date = r.local_date
                and r.timezone = v_workspace.timezone
                and not r.stale
                and d.starts_at >= v_month_ago
                and d.ends_at <= p_at
    ),

    -- Runs of consecutive days counted live for the 30 days, and for the 7 days (the days
    -- that end after p_at - 7 days and are not counted whole).
    month_spans as materialized (
        select min(x.month_from) as from_at, max(x.month_to) as to_at, max(x.ends_at) as ends_at
        from (
            select h.month_from, h.month_to, h.ends_at, h.i - row_number() over (order by h.i) as island
            from history as h
            where not h.counted
        ) as x
        group by x.island
    ),

    week_spans as materialized (
        select min(x.week_from) as from_at, max(x.ends_at) as ends_at
        from (
            select h.week_from, h.ends_at, h.i - row_number() over (order by h.i) as island
            from history as h
            where not h.counted_week and h.ends_at > v_week_ago
        ) as x
        group by x.island
    )

    select
        r.bookings_completed + b.completed as bookings_completed,
        r.bookings_no_show + b.no_show as bookings_no_show,
        r.bookings_cancelled + b.cancelled as bookings_cancelled,
        r.contacts_created + c.created as contacts_30_days,
        r.contacts_created_week + w.created as contacts_7_days,
        r.forms_completed + f.completed as forms_completed
    into v_history
    from (
        select
            coalesce(sum(h.bookings_completed), 0) as bookings_completed,
            coalesce(sum(h.bookings_no_show), 0) as bookings_no_show,
            coalesce(sum(h.bookings_cancelled), 0) as bookings_cancelled,
            coalesce(sum(h.contacts_created), 0) as contacts_created,
            coalesce(sum(h.contacts_created) filter (where h.counted_week), 0) as contacts_created_week,
            coalesce(sum(h.forms_completed), 0) as forms_completed
        from history as h
    ) as r
    cross join (
        select
            count(*) filter (where x.status = 'completed') as completed,
            count(*) filter (where x.status = 'no_show') as no_show,
            count(*) filter (where x.status = 'cancelled') as cancelled
        from month_spans as s
        inner join public.bookings as x
            on
                x.workspace_id = p_workspace_id
                and x.starts_at >= s.from_at
                and x.starts_at < s.to_at
    ) as b
    cross join (
        select count(*) as created
        from month_spans as s
        inner join public.contacts as x
            on
                x.workspace_id = p_workspace_id
                and x.created_at >= s.from_at
                and x.created_at < s.ends_at
                and x.created_at <= p_at
    ) as c
    cross join (
        select count(*) as created
        from week_spans as s
        inner join public.contacts as x
            on
                x.workspace_id = p_workspace_id
                and x.created_at >= s.from_at
                and x.created_at < s.ends_at
                and x.created_at <= p_at
    ) as w
    cross join (
        select count(*) as completed
        from month_spans as s
        inner join public.form_submissions as x
            on
                x.workspace_id = p_workspace_id
                and x.completed_at is not null
                and x.completed_at >= s.from_at
                and x.completed_at < s.ends_at
                and x.completed_at <= p_at
    ) as f;

    -- Bookings: today and the next 7 days count what takes place (not cancelled), each a range
    -- of the workspace's bookings by start (index-only scans); the last 30 days count outcomes
    -- of the bookings that started in [p_at - 30 days, p_at) (the history above).
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
        'last_30_days', pg_catalog.jsonb_build_object(
            'completed', v_history.bookings_completed,
            'no_show', v_history.bookings_no_show,
            'cancelled', v_history.bookings_cancelled
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

    -- Leads: contacts created in the last 7 and 30 days (the history above); conversations with
    -- a message in the last 30 days (open), with something unread, and the unread messages they hold.
    v_leads := pg_catalog.jsonb_build_object(
        'new_contacts_7_days', v_history.contacts_7_days,
        'new_contacts_30_days', v_history.contacts_30_days
    );

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

    -- Forms: open submissions by status (one range of the partial index), and those completed
    -- in the last 30 days (the history above).
    select pg_catalog.jsonb_build_object(
        'pending', count(*) filter (where f.status = 'pending'),
        'overdue', count(*) filter (where f.status = 'overdue'),
        'completed_30_days', v_history.forms_completed
    )
    into v_forms
    from public.form_submissions as f
    where f.workspace_id = p_workspace_id and f.status in ('pending', 'overdue');

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
'dashboard_stats as of the instant p_at (tests pin it; the RPC passes now()), for members of the workspace '
'and service_role (definer: one membership check, then the workspace''s rows as RLS shows them to a member); '
'the last 30 days add private.dashboard_days rows of closed days to live counts of the rest. '
'Errors: not_authenticated, not_found.';

create function public.dashboard_stats(p_workspace_id uuid)
returns jsonb
language sql
stable
security invoker
set search_path = ''
as $$
    select private.dashboard_stats_at(p_workspace_id, pg_catalog.now());
$$;

comment on function public.dashboard_stats(uuid) is
'The staff dashboard of a workspace in one call, for its members (others get not_found): '
'workspace {id, name, timezone, status, today_local}, members {owners, staff}, invitations {pending} (null for staff); '
'bookings {today, next_7_days, last_30_days {completed, no_show, cancelled}, today_by_practitioner}; '
'leads {new_contacts_7_days, new_contacts_30_days, open_conversations, unread_conversations, unread_messages}; '
'forms {pending, overdue, completed_30_days}; inventory {items, low_stock_count, low_stock}; '
'alerts {open, open_by_kind, newest}. Days are the workspace''s local days. '
'Errors: not_authenticated, not_found (also for workspaces the caller is not a member of).';

create function private.business_metric_families(p_at timestamptz)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    v_day_start timestamptz;
    v_day_end timestamptz;
    v_bookings bigint;
    v_forms bigint;
    v_messages jsonb;
begin
    select d.starts_at, d.ends_at into v_day_start, v_day_end from private.local_day('UTC', p_at) as d;
    select count(*) into v_bookings
    from public.bookings as b
    where b.created_at >= v_day_start and b.created_at < v_day_end;
    select count(*) into v_forms
    from public.form_submissions as f
    where f.completed_at >= v_day_start and f.completed_at < v_day_end;
    -- One sample per channel, 0 included, so a rate never starts from a missing series.
    select pg_catalog.jsonb_agg(
        pg_catalog.jsonb_build_object('labels', pg_catalog.jsonb_build_object('channel', c.channel), 'value', (
            select count(*)
            from public.messages as m
            where m.sent_at >= v_day_start and m.sent_at < v_day_end and m.channel = c.channel
        ))
        order by c.channel
    )
    into v_messages
    from (values ('email'), ('sms')) as c (channel);
    return pg_catalog.jsonb_build_array(
        pg_catalog.jsonb_build_object(
            'name', 'careops_bookings_created_today',
            'help', 'Bookings created since midnight UTC, all workspaces, any status.',
            'samples', pg_catalog.jsonb_build_array(
                pg_catalog.jsonb_build_object('labels', '{}'::jsonb, 'value', v_bookings)
            )
        ),
        pg_catalog.jsonb_build_object(
            'name', 'careops_forms_completed_today',
            'help', 'Intake form submissions completed since midnight UTC, all workspaces.',
            'samples', pg_catalog.jsonb_build_array(
                pg_catalog.jsonb_build_object('labels', '{}'::jsonb, 'value', v_forms)
            )
        ),
        pg_catalog.jsonb_build_object(
            'name', 'careops_messages_sent_today',
            'help', 'Messages handed to a provider since midnight UTC (sent_at), all workspaces, by channel.',
            'samples', v_messages
        )
    );
end
$$;

comment on function private.business_metric_families(timestamptz) is
'Prometheus gauge families of the UTC day containing p_at: bookings created, forms completed, messages sent by '
'channel. Part of private.metrics_snapshot(); service_role only.';

-- The figures /metrics shows: messages by status and provider, retries, open alerts. No index
-- for them on purpose: one on status would make every claim and record a non-HOT update
-- (about 20 % of the delivery rate, bench/worker_throughput.py); edge_api caches the snapshot.
create function private.metrics_snapshot()
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    v_families jsonb;
begin
    with
    queues as (
        -- pgmq.metrics counts each queue's table: cheap while queues are drained.
        select q.queue_name, q.queue_length, coalesce(q.oldest_msg_age_sec, 0) as oldest_age
        from pgmq.metrics_all() as q
    ),

    -- Failed runs of the last hour per job: a scan of cron.job_run_details, which
    -- careops_prune_queue_archive keeps to 7 days (about 10,000 rows per job run every minute).
    failed_runs as (
        select d.jobid, count(*) as runs
        from cron.job_run_details as d
        where d.status = 'failed' and d.start_time > pg_catalog.now() - interval '1 hour'
        group by d.jobid
    ),

    jobs as (
        select
            coalesce(j.jobname::text, 'job-' || j.jobid::text) as job,
            j.active,
            last_run.status,
            last_run.finished_at,
            coalesce(f.runs, 0) as failed_last_hour
        from cron.job as j
        left join failed_runs as f on j.jobid = f.jobid
        left join lateral (
            -- The newest finished run; walks job_run_details backwards by runid.
            select d.status, coalesce(d.end_time, d.start_time) as finished_at
            from cron.job_run_details as d
            where d.jobid = j.jobid and d.status in ('succeeded', 'failed')
            order by d.runid desc
            limit 1
        ) as last_run on true
    ),

    -- Outbound messages grouped once (a scan of messages per snapshot).
    outbound as (
        select
            m.status,
            coalesce(m.provider, 'none') as provider,
            m.channel,
            count(*) as messages,
            coalesce(sum(greatest(m.attempts - 1, 0)), 0) as retries,
            count(*) filter (
                where m.skip_reason = 'recipient_cap' and m.created_at > pg_catalog.now() - interval '1 day'
            ) as capped
        from public.messages as m
        where m.direction = 'outbound'
        group by m.status, coalesce(m.provider, 'none'), m.channel
    ),

    open_alerts as (
        select a.kind, count(*) as alerts
        from public.alerts as a
        where a.resolved_at is null
        group by a.kind
    ),

    -- Every family, listed even when it has no sample (so its HELP is always there).
    families (position, name, help) as (
        values
        (1, 'careops_queue_depth', 'Messages in the pgmq queue, visible or not.'),
        (2, 'careops_queue_oldest_message_age_seconds', 'Age of the oldest message in the pgmq queue (0 when empty).'),
        (3, 'careops_cron_job_active', 'Whether the pg_cron job is scheduled (1) or paused (0).'),
        (
            4, 'careops_cron_job_last_run_success',
            'Whether the last finished run of the pg_cron job succeeded (1) or failed (0).'
        ),
        (5, 'careops_cron_job_last_run_age_seconds', 'Seconds since the last finished run of the pg_cron job ended.'),
        (
            6, 'careops_messages',
            'Outbound messages by status, provider (none before one delivered it) and channel.'
        ),
        (
            7, 'careops_message_delivery_retries',
            'Delivery attempts beyond the first, summed over outbound messages, by status and channel.'
        ),
        (8, 'careops_open_alerts', 'Open alerts by kind (malformed_job: system alerts without a workspace).'),
        (
            9, 'careops_cron_job_failed_runs_last_hour',
            'Runs of the pg_cron job that failed (cron.job_run_details status failed) in the last hour.'
        ),
        (
            10, 'careops_unroutable_inbound_messages',
            'Inbound SMS and email no active workspace receives (kept in unroutable_messages), by channel.'
        ),
        (
            11, 'careops_abuse_caps_hit_last_day',
            'Caps reached in the last 24 hours: recipient (automated messages skipped), email, phone, client_address '
            '(anonymous bookings, cancellations and moves).'
        )
    ),

    samples (name, labels, value) as (
        select 'careops_queue_depth', pg_catalog.jsonb_build_object('queue', q.queue_name), q.queue_length::numeric
        from queues as q
        union all
        select
            'careops_queue_oldest_message_age_seconds',
            pg_catalog.jsonb_build_object('queue', q.queue_name),
            q.oldest_age::numeric
        from queues as q
        union all
        select
            'careops_cron_job_active',
            pg_catalog.jsonb_build_object('job', j.job),
            case when j.active then 1 else 0 end
        from jobs as j
        union all
        select
            'careops_cron_job_last_run_success',
            pg_catalog.jsonb_build_object('job', j.job),
            case when j.status = 'succeeded' then 1 else 0 end
        from jobs as j
        where j.status is not null
        union all
        select
            'careops_cron_job_last_run_age_seconds',
            pg_catalog.jsonb_build_object('job', j.job),
            round(extract(epoch from pg_catalog.clock_timestamp() - j.finished_at), 3)
        from jobs as j
        where j.finished_at is not null
        union all
        select
            'careops_cron_job_failed_runs_last_hour',
            pg_catalog.jsonb_build_object('job', j.job),
            j.failed_last_hour::numeric
        from jobs as j
        union all
        select
            'careops_messages',
            pg_catalog.jsonb_build_object('status', o.status, 'provider', o.provider, 'channel', o.channel),
            o.messages::numeric
        from outbound as o
        union all
        select
            'careops_message_delivery_retries',
            pg_catalog.jsonb_build_object('status', o.status, 'channel', o.channel),
            sum(o.retries)::numeric
        from outbound as o
        group by o.status, o.channel
        union all
        select 'careops_open_alerts', pg_catalog.jsonb_build_object('kind', a.kind), a.alerts::numeric
        from open_alerts as a
        union all
        select 'careops_unroutable_inbound_messages', pg_catalog.jsonb_build_object('channel', u.channel), count(*)
        from public.unroutable_messages as u
        group by u.channel
        union all
        select 'careops_abuse_caps_hit_last_day', pg_catalog.jsonb_build_object('cap', 'recipient'), coalesce(sum(o.capped), 0)
        from outbound as o
        union all
        select 'careops_abuse_caps_hit_last_day', pg_catalog.jsonb_build_object('cap', c.cap), count(a.id)
        from (values ('email'), ('phone'), ('client_address')) as c (cap)
        left join private.anonymous_actions as a
            on c.cap = a.reached_cap and a.happened_at > pg_catalog.now() - interval '1 day'
        group by c.cap
    )

    select pg_catalog.jsonb_agg(
        pg_catalog.jsonb_build_object(
            'name', f.name,
            'help', f.help,
            'samples', coalesce(
                (
                    select pg_catalog.jsonb_agg(
                        pg_catalog.jsonb_build_object('labels', s.labels, 'value', s.value) order by s.labels::text
                    )
                    from samples as s
                    where s.name = f.name
                ),
                '[]'
            )
        )
        order by f.position
    )
    into v_families
    from families as f;
    -- Business families (bookings, forms, messages today): 20261128090000_business_metrics.sql.
    return v_families || private.business_metric_families(pg_catalog.now());
end
$$;

comment on function private.metrics_snapshot() is
'Database metrics as Prometheus gauge families [{name, help, samples: [{labels, value}]}]: pgmq queue depth and oldest message age, pg_cron jobs'' state, last run and failed runs of the last hour, outbound messages by status/provider/channel, delivery retries, open alerts by kind, inbound no workspace receives, abuse caps reached, and '
'private.business_metric_families (bookings created, forms completed, messages sent today). service_role only.';

-- Marking ---------------------------------------------------------------------------------

-- After a write to a row dated more than a day ago (the triggers' WHEN clauses say which):
-- the local day of each affected instant gets a stale row (inserted when the day was not
-- counted yet, so a recount in flight cannot land over it). tg_argv[0] names the column.
create function private.mark_dashboard_days_stale()
returns trigger
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_row jsonb := pg_catalog.to_jsonb(coalesce(new, old));
    v_workspace_id uuid := (v_row ->> 'workspace_id')::uuid;
    v_timezone text;
begin
    select w.timezone into v_timezone from public.workspaces as w where w.id = v_workspace_id;
    if not found then
        return null;  -- the workspace is being deleted: its rows go with it
    end if;
    insert into private.dashboard_days as d (workspace_id, local_date, timezone, stale, marks)
    select distinct v_workspace_id, (a.at at time zone v_timezone)::date, v_timezone, true, 1
    from (
        select (pg_catalog.to_jsonb(old) ->> tg_argv[0])::timestamptz as at
        union all
        select (pg_catalog.to_jsonb(new) ->> tg_argv[0])::timestamptz
    ) as a
    where a.at is not null
    on conflict (workspace_id, local_date) do update
    set stale = true, marks = d.marks + 1;
    return null;
end
$$;

comment on function private.mark_dashboard_days_stale() is
'Trigger: marks the dashboard day rows of the instants in column tg_argv[0] (old and new) stale, so dashboard_stats counts those days live until they are recounted.';

-- Counting --------------------------------------------------------------------------------

-- Counts every local day of the last 32 that ended more than a day before p_at and has no
-- usable row (missing, stale, cut in another zone, or counted more than a day ago: a daily
-- recount bounds what a write outside these triggers could leave behind), for every
-- workspace. A row marked again while it was being counted is left stale.
create function private.fill_dashboard_days(p_at timestamptz default now())
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_written integer;
begin
    -- Rows nobody reads any more: older than the window, or cut in a zone the workspace left.
    delete from private.dashboard_days as d
    using public.workspaces as w
    where d.workspace_id = w.id and (d.local_date < (p_at - interval '40 days')::date or d.timezone <> w.timezone);

    with days as (
        select w.id as workspace_id, w.timezone, g.day::date as local_date
        from public.workspaces as w
        cross join lateral pg_catalog.generate_series(
            (p_at at time zone w.timezone)::date - 32, (p_at at time zone w.timezone)::date - 1, interval '1 day'
        ) as g (day)
    ),

    wanted as (
        select
            d.workspace_id,
            d.timezone,
            d.local_date,
            d.local_date::timestamp at time zone d.timezone as starts_at,
            (d.local_date + 1)::timestamp at time zone d.timezone as ends_at,
            coalesce(r.marks, 0) as marks
        from days as d
        left join private.dashboard_days as r on d.workspace_id = r.workspace_id and d.local_date = r.local_date
        where
            (d.local_date + 1)::timestamp at time zone d.timezone <= p_at - interval '2 days'
            and (
                r.workspace_id is null
                or r.stale
                or r.timezone <> d.timezone
                or r.counted_at < p_at - interval '1 day'
            )
    ),

    written as (
        insert into private.dashboard_days as d (
            workspace_id, local_date, timezone, stale, marks,
            bookings_completed, bookings_no_show, bookings_cancelled, contacts_created, forms_completed, counted_at
        )
        select
            w.workspace_id, w.local_date, w.timezone, false, w.marks,
            b.completed, b.no_show, b.cancelled, c.created, f.completed, p_at
        from wanted as w
        cross join lateral (
            select
                count(*) filter (where x.status = 'completed')::integer as completed,
                count(*) filter (where x.status = 'no_show')::integer as no_show,
                count(*) filter (where x.status = 'cancelled')::integer as cancelled
            from public.bookings as x
            where x.workspace_id = w.workspace_id and x.starts_at >= w.starts_at and x.starts_at < w.ends_at
        ) as b
        cross join lateral (
            select count(*)::integer as created
            from public.contacts as x
            where x.workspace_id = w.workspace_id and x.created_at >= w.starts_at and x.created_at < w.ends_at
        ) as c
        cross join lateral (
            select count(*)::integer as completed
            from public.form_submissions as x
            where
                x.workspace_id = w.workspace_id
                and x.completed_at is not null
                and x.completed_at >= w.starts_at
                and x.completed_at < w.ends_at
        ) as f
        on conflict (workspace_id, local_date) do update
        set
            timezone = excluded.timezone,
            stale = false,
            bookings_completed = excluded.bookings_completed,
            bookings_no_show = excluded.bookings_no_show,
            bookings_cancelled = excluded.bookings_cancelled,
            contacts_created = excluded.contacts_created,
            forms_completed = excluded.forms_completed,
            counted_at = excluded.counted_at
        -- the marks read when counting: a concurrent mark added one, and wins
        where d.marks = excluded.marks
        returning 1
    )

    select count(*)::integer into v_written from written;
    return v_written;
end
$$;

comment on function private.fill_dashboard_days(timestamptz) is
'Every 10 minutes (careops_fill_dashboard_days): counts the closed local days of the last 32 that have no usable private.dashboard_days row, for every workspace; drops rows older than 40 days or cut in a zone the workspace left. Returns how many rows it wrote. Safe to run twice or concurrently.';

-- Triggers ------------------------------------------------------------------------------

-- Only rows dated more than a day ago can fall in a counted day (see fill_dashboard_days), so
-- every other write (every booking made through book_appointment) costs one comparison.
create trigger bookings_mark_dashboard_days_on_insert
after insert on public.bookings
for each row when (new.starts_at < now() - interval '1 day')
execute function private.mark_dashboard_days_stale('starts_at');

create trigger bookings_mark_dashboard_days_on_update
after update of starts_at, status on public.bookings
for each row when (
    (old.starts_at < now() - interval '1 day' or new.starts_at < now() - interval '1 day')
    and (old.starts_at, old.status) is distinct from (new.starts_at, new.status)
)
execute function private.mark_dashboard_days_stale('starts_at');

create trigger bookings_mark_dashboard_days_on_delete
after delete on public.bookings
for each row when (old.starts_at < now() - interval '1 day')
execute function private.mark_dashboard_days_stale('starts_at');

create trigger contacts_mark_dashboard_days_on_insert
after insert on public.contacts
for each row when (new.created_at < now() - interval '1 day')
execute function private.mark_dashboard_days_stale('created_at');

create trigger contacts_mark_dashboard_days_on_update
after update of created_at on public.contacts
for each row when (
    (old.created_at < now() - interval '1 day' or new.created_at < now() - interval '1 day')
    and old.created_at is distinct from new.created_at
)
execute function private.mark_dashboard_days_stale('created_at');

create trigger contacts_mark_dashboard_days_on_delete
after delete on public.contacts
for each row when (old.created_at < now() - interval '1 day')
execute function private.mark_dashboard_days_stale('created_at');

create trigger form_submissions_mark_dashboard_days_on_insert
after insert on public.form_submissions
for each row when (new.completed_at < now() - interval '1 day')
execute function private.mark_dashboard_days_stale('completed_at');

create trigger form_submissions_mark_dashboard_days_on_update
after update of completed_at on public.form_submissions
for each row when (
    (old.completed_at < now() - interval '1 day' or new.completed_at < now() - interval '1 day')
    and old.completed_at is distinct from new.completed_at
)
execute function private.mark_dashboard_days_stale('completed_at');

create trigger form_submissions_mark_dashboard_days_on_delete
after delete on public.form_submissions
for each row when (old.completed_at < now() - interval '1 day')
execute function private.mark_dashboard_days_stale('completed_at');

-- Row level security, policies and Realtime ---------------------------------------------

alter table private.dashboard_days enable row level security;

-- No policy: only the schedule (as its owner) and private.dashboard_stats_at (definer) read it.

-- Grants --------------------------------------------------------------------------------

revoke execute on function
private.local_day(text, timestamptz),
private.dashboard_viewer(uuid),
private.dashboard_stats_at(uuid, timestamptz),
public.dashboard_stats(uuid)
from public, anon;

grant execute on function
private.local_day(text, timestamptz),
private.dashboard_viewer(uuid),
private.dashboard_stats_at(uuid, timestamptz),
public.dashboard_stats(uuid)
to authenticated, service_role;

revoke execute on function private.metrics_snapshot() from public, anon, authenticated;

grant execute on function private.metrics_snapshot() to service_role;

revoke execute on function private.business_metric_families(timestamptz) from public, anon, authenticated;

grant execute on function private.business_metric_families(timestamptz) to service_role;

revoke all on private.dashboard_days from public, anon, authenticated;

grant select on private.dashboard_days to service_role;

revoke execute on function
private.mark_dashboard_days_stale(),
private.fill_dashboard_days(timestamptz)
from public;

grant execute on function private.fill_dashboard_days(timestamptz) to service_role;

-- Schedules (pg_cron) -------------------------------------------------------------------

select cron.unschedule(j.jobid)
from cron.job as j
where j.jobname = 'careops_fill_dashboard_days';

select cron.schedule('careops_fill_dashboard_days', '*/10 * * * *', 'select private.fill_dashboard_days()');

-- Data ----------------------------------------------------------------------------------
