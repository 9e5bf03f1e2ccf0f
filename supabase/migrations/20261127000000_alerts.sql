-- Alerts: what needs staff attention (an overdue form, low stock, a message that could not be
-- delivered). At most one open alert per kind and subject; resolved alerts stay as history.

create table public.alerts (
    id uuid primary key default gen_random_uuid(),
    workspace_id uuid not null references public.workspaces (id) on delete cascade,
    kind text not null check (kind in ('form_overdue', 'low_stock', 'message_failed')),
    severity text not null default 'warning' check (severity in ('info', 'warning', 'critical')),
    subject_type text not null check (subject_type ~ '^[a-z][a-z0-9_]{0,62}$'),
    subject_id uuid not null,
    text text not null constraint alerts_text_is_clean check (private.is_clean_text(text, 500)),  -- noqa: RF04
    created_at timestamptz not null default now(),
    resolved_at timestamptz,
    resolved_by uuid references auth.users (id) on delete set null,
    constraint alerts_resolved_by_needs_resolved_at check (resolved_by is null or resolved_at is not null)
);

comment on table public.alerts is
'What needs staff attention in a workspace; open until resolved (by staff or by the system), then kept as history.';
comment on column public.alerts.kind is
'form_overdue (subject: a form submission), low_stock (an inventory item), message_failed (a message).';
comment on column public.alerts.severity is 'info, warning or critical: how a frontend ranks and colours it.';
comment on column public.alerts.subject_type is
'The table of the row the alert is about, singular (form_submission, inventory_item, message).';
comment on column public.alerts.subject_id is 'The id of that row (not a foreign key: subjects live in several tables).';
comment on column public.alerts.text is 'One line for people, written by the database when it raises the alert.';
comment on column public.alerts.resolved_at is 'Null while open.';
comment on column public.alerts.resolved_by is
'The member who resolved it; null while open, when the system resolved it (stock refilled) or once that account is deleted.';

-- At most one open alert per kind and subject: raise_alert relies on it to stay idempotent under concurrency.
create unique index alerts_one_open_per_subject
on public.alerts (workspace_id, kind, subject_type, subject_id) where (resolved_at is null);
create index alerts_workspace_id_created_at_idx on public.alerts (workspace_id, created_at desc);
create index alerts_resolved_by_idx on public.alerts (resolved_by) where (resolved_by is not null);

alter table public.alerts enable row level security;

-- Members read; resolving goes through resolve_alert (who and when are set by the database).
revoke all on public.alerts from anon, authenticated;
grant select on public.alerts to authenticated;
grant all on public.alerts to service_role;

create policy "members read their workspaces' alerts"
on public.alerts for select to authenticated
using (workspace_id = any((select private.member_workspace_ids())::uuid[]));

-- Raising: the database's own schedules and the worker call this.

create function private.raise_alert(
    p_workspace_id uuid,
    p_kind text,
    p_subject_type text,
    p_subject_id uuid,
    p_text text,
    p_severity text default 'warning'
)
returns uuid
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_alert_id uuid;
begin
    -- A concurrent raiser of the same alert waits on the unique index, then does nothing.
    insert into public.alerts (workspace_id, kind, severity, subject_type, subject_id, text)
    values (p_workspace_id, p_kind, p_severity, p_subject_type, p_subject_id, p_text)
    on conflict (workspace_id, kind, subject_type, subject_id) where (resolved_at is null) do nothing
    returning id into v_alert_id;
    if v_alert_id is null then
        select a.id into v_alert_id
        from public.alerts as a
        where
            a.workspace_id = p_workspace_id
            and a.kind = p_kind
            and a.subject_type = p_subject_type
            and a.subject_id = p_subject_id
            and a.resolved_at is null;
    end if;
    return v_alert_id;
end
$$;

comment on function private.raise_alert(uuid, text, text, uuid, text, text) is
'Opens an alert for (workspace, kind, subject) unless one is open already; returns the open alert''s id either way.';

create function private.resolve_open_alert(
    p_workspace_id uuid, p_kind text, p_subject_type text, p_subject_id uuid
)
returns uuid
language sql
volatile
security definer
set search_path = ''
as $$
    update public.alerts as a
    set resolved_at = now()
    where
        a.workspace_id = p_workspace_id
        and a.kind = p_kind
        and a.subject_type = p_subject_type
        and a.subject_id = p_subject_id
        and a.resolved_at is null
    returning a.id;
$$;

comment on function private.resolve_open_alert(uuid, text, text, uuid) is
'The system resolves the open alert of (workspace, kind, subject), e.g. when stock is refilled; returns its id or null.';

revoke execute on function
private.raise_alert(uuid, text, text, uuid, text, text),
private.resolve_open_alert(uuid, text, text, uuid)
from public;
grant execute on function
private.raise_alert(uuid, text, text, uuid, text, text),
private.resolve_open_alert(uuid, text, text, uuid)
to service_role;

-- RPC

create function public.resolve_alert(p_alert_id uuid)
returns public.alerts
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_user_id uuid := (select auth.uid());
    v_alert public.alerts;
begin
    if v_user_id is null then
        perform private.raise_error('not_authenticated');
    end if;
    select a.* into v_alert from public.alerts as a where a.id = p_alert_id for update;
    if not found or not private.is_member(v_alert.workspace_id) then
        perform private.raise_error('not_found', 'No such alert in your workspaces.');
    end if;
    if v_alert.resolved_at is null then
        update public.alerts as a
        set resolved_at = now(), resolved_by = v_user_id
        where a.id = p_alert_id
        returning a.* into v_alert;
    end if;
    return v_alert;
end
$$;

comment on function public.resolve_alert(uuid) is
'Staff and owners: resolves an open alert of their workspace (idempotent: a resolved alert is returned as it is). Errors: not_authenticated, not_found.';

revoke execute on function public.resolve_alert(uuid) from public, anon;
grant execute on function public.resolve_alert(uuid) to authenticated, service_role;
