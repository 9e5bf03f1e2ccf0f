-- The staff day: closing bookings (completed with stock drawn, or no-show) and stock adjustments
-- with a reason kept as history. The low-stock alert resolves itself on refill through the
-- automation's hourly private.check_low_stock (an item above its threshold again).
--
-- Every change of an item's quantity, whoever makes it (adjust_stock, complete_booking, or a
-- stock count written to inventory_items.quantity directly), leaves one inventory_movements
-- row, written by a trigger: the RPCs tell it the kind, reason and booking through
-- transaction-local settings (careops.stock_*).

insert into private.error_codes (code, http_status, description) values
('invalid_stock_delta', 400, 'A stock adjustment is a non-zero number from -1000000000 to 1000000000.'),
('booking_not_started', 409, 'The booking has not started yet; it can be completed or marked no-show once it has.'),
('booking_closed', 409, 'The booking is already completed or marked no-show.'),
(
    'insufficient_stock',
    409,
    'Not enough stock: the change would take an item below zero. Nothing was changed; adjust the stock first.'
);

-- Closing bookings --------------------------------------------------------------------------------

alter table public.bookings
add column closed_at timestamptz,
add column closed_by uuid references auth.users (id) on delete set null;

comment on column public.bookings.closed_at is 'When staff marked it completed or no_show; null otherwise.';
comment on column public.bookings.closed_by is 'The member who marked it completed or no_show.';

create index bookings_closed_by_idx on public.bookings (closed_by) where (closed_by is not null);

-- Stock history -----------------------------------------------------------------------------------

create table public.inventory_movements (
    id uuid primary key default gen_random_uuid(),
    workspace_id uuid not null references public.workspaces (id) on delete cascade,
    item_id uuid not null,
    kind text not null check (kind in ('adjustment', 'booking_usage', 'count')),
    delta numeric not null check (delta <> 0),
    quantity_after numeric not null check (quantity_after >= 0),
    reason text constraint inventory_movements_reason_is_clean check (
        reason is null or private.is_clean_multiline_text(reason, 500)
    ),
    booking_id uuid references public.bookings (id) on delete set null,
    created_by uuid references auth.users (id) on delete set null,
    created_at timestamptz not null default now(),
    constraint inventory_movements_item_fkey foreign key (workspace_id, item_id)
    references public.inventory_items (workspace_id, id) on delete cascade,
    constraint inventory_movements_adjustments_have_a_reason check (kind <> 'adjustment' or reason is not null),
    constraint inventory_movements_usage_has_a_booking check (kind <> 'booking_usage' or booking_id is not null)
);

comment on table public.inventory_movements is
'Every change of an item''s stock, newest last: adjustments with their reason, usage by completed bookings, direct stock counts. Written by the database only.';
comment on column public.inventory_movements.kind is
'adjustment (adjust_stock, with a reason), booking_usage (complete_booking) or count (quantity written directly).';
comment on column public.inventory_movements.delta is 'The change: negative when stock was taken out.';
comment on column public.inventory_movements.quantity_after is 'The item''s quantity right after this change.';
comment on column public.inventory_movements.reason is 'Why, as staff wrote it (required for adjustments).';
comment on column public.inventory_movements.booking_id is 'The completed booking that used the stock.';
comment on column public.inventory_movements.created_by is 'The member who made the change; null for the system.';

create index inventory_movements_workspace_id_item_id_created_at_idx
on public.inventory_movements (workspace_id, item_id, created_at desc);
create index inventory_movements_booking_id_idx on public.inventory_movements (booking_id)
where (booking_id is not null);
create index inventory_movements_created_by_idx on public.inventory_movements (created_by)
where (created_by is not null);

alter table public.inventory_movements enable row level security;

revoke all on public.inventory_movements from anon, authenticated;
grant select on public.inventory_movements to authenticated;
grant all on public.inventory_movements to service_role;

create policy "members read their workspaces' stock history"
on public.inventory_movements for select to authenticated
using (workspace_id = any((select private.member_workspace_ids())::uuid[]));

create function private.record_inventory_movement()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    insert into public.inventory_movements (
        workspace_id, item_id, kind, delta, quantity_after, reason, booking_id, created_by
    )
    values (
        new.workspace_id,
        new.id,
        coalesce(nullif(pg_catalog.current_setting('careops.stock_kind', true), ''), 'count'),
        new.quantity - old.quantity,
        new.quantity,
        nullif(pg_catalog.current_setting('careops.stock_reason', true), ''),
        nullif(pg_catalog.current_setting('careops.stock_booking_id', true), '')::uuid,
        (select auth.uid())
    );
    return null;
end
$$;

comment on function private.record_inventory_movement() is
'Trigger: each change of an item''s quantity leaves a movement (kind, reason and booking from the careops.stock_* settings the RPCs set; a direct write is a count).';

create trigger inventory_items_record_movement
after update of quantity on public.inventory_items
for each row when (old.quantity is distinct from new.quantity)
execute function private.record_inventory_movement();

-- One stock change by an RPC, atomic: never below zero (insufficient_stock), never above the limit.
create function private.change_stock(
    p_item_id uuid, p_delta numeric, p_kind text, p_reason text, p_booking_id uuid
)
returns public.inventory_items
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_item public.inventory_items;
begin
    perform pg_catalog.set_config('careops.stock_kind', p_kind, true);
    perform pg_catalog.set_config('careops.stock_reason', coalesce(p_reason, ''), true);
    perform pg_catalog.set_config('careops.stock_booking_id', coalesce(p_booking_id::text, ''), true);
    -- The row lock and the re-check of the condition settle concurrent draws on the last units.
    update public.inventory_items as i
    set quantity = i.quantity + p_delta
    where i.id = p_item_id and i.quantity + p_delta >= 0
    returning i.* into v_item;
    if not found then
        select i.* into v_item from public.inventory_items as i where i.id = p_item_id;
        perform private.raise_error(
            'insufficient_stock',
            format('%s: %s %s in stock, %s needed.', v_item.name, v_item.quantity, v_item.unit, -p_delta)
        );
    end if;
    perform pg_catalog.set_config('careops.stock_kind', '', true);
    perform pg_catalog.set_config('careops.stock_reason', '', true);
    perform pg_catalog.set_config('careops.stock_booking_id', '', true);
    return v_item;
end
$$;

comment on function private.change_stock(uuid, numeric, text, text, uuid) is
'Adds p_delta to an item''s quantity in one statement and records the movement; raises insufficient_stock (nothing changes) when it would go below zero.';

-- RPCs ----------------------------------------------------------------------------------------------

create function public.adjust_stock(p_item_id uuid, p_delta numeric, p_reason text)
returns public.inventory_items
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_workspace_id uuid;
    v_reason text;
begin
    if (select auth.uid()) is null then
        perform private.raise_error('not_authenticated');
    end if;
    select i.workspace_id into v_workspace_id from public.inventory_items as i where i.id = p_item_id;
    if not found or not private.is_member(v_workspace_id) then
        perform private.raise_error('not_found', 'No such inventory item in your workspaces.');
    end if;
    if p_delta is null or p_delta = 0 or p_delta not between -1000000000 and 1000000000 then
        perform private.raise_error('invalid_stock_delta');
    end if;
    v_reason := private.clean_multiline_text(p_reason, 500, 'invalid_reason');
    if (select i.quantity + p_delta from public.inventory_items as i where i.id = p_item_id) > 1000000000 then
        perform private.raise_error('invalid_quantity');
    end if;
    return private.change_stock(p_item_id, p_delta, 'adjustment', v_reason, null);
end
$$;

comment on function public.adjust_stock(uuid, numeric, text) is
'Staff and owners: adds p_delta (negative to take out) to an item''s stock with a reason kept in inventory_movements (the next low-stock check resolves the alert of an item refilled above its threshold). Errors: not_authenticated, not_found, invalid_stock_delta, invalid_reason, invalid_quantity, insufficient_stock.';

-- The booking, locked, when the caller is a member and it is open and has started.
create function private.startable_booking(p_booking_id uuid)
returns public.bookings
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_booking public.bookings;
begin
    if (select auth.uid()) is null then
        perform private.raise_error('not_authenticated');
    end if;
    select b.* into v_booking from public.bookings as b where b.id = p_booking_id for update;
    if not found or not private.is_member(v_booking.workspace_id) then
        perform private.raise_error('not_found', 'No such booking in your workspaces.');
    end if;
    if v_booking.status = 'cancelled' then
        perform private.raise_error('booking_cancelled');
    end if;
    if v_booking.status in ('completed', 'no_show') then
        perform private.raise_error('booking_closed', format('The booking is already %s.', v_booking.status));
    end if;
    if v_booking.starts_at > now() then
        perform private.raise_error('booking_not_started');
    end if;
    return v_booking;
end
$$;

comment on function private.startable_booking(uuid) is
'The booking locked for update when the signed-in caller is a member, it is confirmed and it has started; not_authenticated, not_found, booking_cancelled, booking_closed, booking_not_started.';

create function public.complete_booking(p_booking_id uuid)
returns public.bookings
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_booking public.bookings := private.startable_booking(p_booking_id);
    v_usage record;
begin
    -- Items in id order: two completions drawing the same items lock them in the same order.
    for v_usage in
        select u.item_id, u.quantity_per_booking
        from public.booking_type_inventory_usage as u
        inner join public.inventory_items as i on u.item_id = i.id
        where u.booking_type_id = v_booking.booking_type_id and i.active
        order by u.item_id
    loop
        perform private.change_stock(v_usage.item_id, -v_usage.quantity_per_booking, 'booking_usage', null, v_booking.id);
    end loop;
    update public.bookings as b
    set status = 'completed', closed_at = now(), closed_by = (select auth.uid())
    where b.id = p_booking_id
    returning b.* into v_booking;
    return v_booking;
end
$$;

comment on function public.complete_booking(uuid) is
'Staff and owners: a started booking is completed and its booking type''s stock usage is taken from each active item, all or nothing (never below zero). Errors: not_authenticated, not_found, booking_cancelled, booking_closed, booking_not_started, insufficient_stock.';

create function public.mark_no_show(p_booking_id uuid)
returns public.bookings
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_booking public.bookings := private.startable_booking(p_booking_id);
begin
    update public.bookings as b
    set status = 'no_show', closed_at = now(), closed_by = (select auth.uid())
    where b.id = v_booking.id
    returning b.* into v_booking;
    return v_booking;
end
$$;

comment on function public.mark_no_show(uuid) is
'Staff and owners: a started booking whose customer did not come; no stock is used. Errors: not_authenticated, not_found, booking_cancelled, booking_closed, booking_not_started.';

revoke execute on function
private.record_inventory_movement(),
private.change_stock(uuid, numeric, text, text, uuid),
private.startable_booking(uuid),
public.adjust_stock(uuid, numeric, text),
public.complete_booking(uuid),
public.mark_no_show(uuid)
from public, anon;
grant execute on function
public.adjust_stock(uuid, numeric, text),
public.complete_booking(uuid),
public.mark_no_show(uuid)
to authenticated, service_role;
