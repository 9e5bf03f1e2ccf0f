-- Inventory: stock items with a low-stock threshold. Owners manage items; staff record stock counts.
--
-- Staff and owners share the authenticated role, so a column grant alone cannot
-- tell them apart: the grant lists every column the frontend may change, and a
-- trigger refuses (forbidden) a staff update that touches anything but quantity.

insert into private.error_codes (code, http_status, description) values
('invalid_unit', 400, 'A unit has 1 to 40 characters, at least one visible, and no control characters.'),
('invalid_quantity', 400, 'A quantity is a number from 0 to 1000000000.'),
('invalid_threshold', 400, 'A low-stock threshold is a number from 0 to 1000000000.');

create table public.inventory_items (
    id uuid primary key default gen_random_uuid(),
    workspace_id uuid not null references public.workspaces (id) on delete cascade,
    name text not null check (private.is_clean_text(name, 120)),
    unit text not null default 'units' check (private.is_clean_text(unit, 40)),
    quantity numeric not null default 0 check (quantity between 0 and 1000000000),
    low_stock_threshold numeric not null default 0 check (low_stock_threshold between 0 and 1000000000),
    active boolean not null default true,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    -- Target of the composite foreign keys that keep usage rows inside one workspace.
    constraint inventory_items_workspace_id_id_key unique (workspace_id, id)
);

comment on table public.inventory_items is
'Stock a workspace uses (gloves, oil, parts). Owners manage items; staff may change quantity (stock counts) only.';
comment on column public.inventory_items.unit is 'What quantity counts ("boxes", "ml", "units").';
comment on column public.inventory_items.quantity is 'Stock on hand, in unit; never negative.';
comment on column public.inventory_items.low_stock_threshold is
'At or below this quantity the item is low on stock (an alert and a notice to the owner).';
comment on column public.inventory_items.active is 'Inactive items are kept for history but no longer tracked.';

alter table public.inventory_items enable row level security;

revoke all on public.inventory_items from anon, authenticated;
grant select, delete on public.inventory_items to authenticated;
grant insert (workspace_id, name, unit, quantity, low_stock_threshold, active)
on public.inventory_items to authenticated;
grant update (name, unit, quantity, low_stock_threshold, active) on public.inventory_items to authenticated;
grant all on public.inventory_items to service_role;

create trigger inventory_items_touch_updated_at
before update on public.inventory_items
for each row execute function private.touch_updated_at();

create function private.validate_inventory_item()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
begin
    -- A signed-in member who is not an owner may only count stock when writing the
    -- table directly; service_role and definer RPCs (their own checks) are not limited.
    if
        tg_op = 'UPDATE'
        and current_user = 'authenticated'
        and not private.has_role(old.workspace_id, 'owner')
        and (new.name, new.unit, new.low_stock_threshold, new.active)
        is distinct from (old.name, old.unit, old.low_stock_threshold, old.active)
    then
        perform private.raise_error('forbidden', 'Staff may change the quantity of an item, nothing else.');
    end if;
    new.name := private.clean_text(new.name, 120, 'invalid_name');
    new.unit := private.clean_text(new.unit, 40, 'invalid_unit');
    if new.quantity is null or new.quantity not between 0 and 1000000000 then
        perform private.raise_error('invalid_quantity');
    end if;
    if new.low_stock_threshold is null or new.low_stock_threshold not between 0 and 1000000000 then
        perform private.raise_error('invalid_threshold');
    end if;
    return new;
end
$$;

comment on function private.validate_inventory_item() is
'Trigger: staff change quantity only (forbidden); trims name and unit; quantity and threshold in range (invalid_name, invalid_unit, invalid_quantity, invalid_threshold).';

create trigger inventory_items_validate
before insert or update on public.inventory_items
for each row execute function private.validate_inventory_item();

create policy "members read their workspaces' inventory"
on public.inventory_items for select to authenticated
using (workspace_id = any((select private.member_workspace_ids())::uuid[]));

create policy "owners add inventory items"
on public.inventory_items for insert to authenticated
with check (workspace_id = any((select private.owner_workspace_ids())::uuid[]));

-- Members may update; the validation trigger keeps staff to the quantity column.
create policy "members update inventory in their workspaces"
on public.inventory_items for update to authenticated
using (workspace_id = any((select private.member_workspace_ids())::uuid[]))
with check (workspace_id = any((select private.member_workspace_ids())::uuid[]));

create policy "owners delete inventory items"
on public.inventory_items for delete to authenticated
using (workspace_id = any((select private.owner_workspace_ids())::uuid[]));

-- Staff screens show stock live (Supabase Realtime honours RLS). Supabase creates the
-- publication; a plain PostgreSQL gets an empty one here so the same file works on both.
do $realtime$
begin
    if not exists (select 1 from pg_catalog.pg_publication where pubname = 'supabase_realtime') then
        create publication supabase_realtime;
    end if;
    if not exists (
        select 1 from pg_catalog.pg_publication_tables
        where pubname = 'supabase_realtime' and schemaname = 'public' and tablename = 'inventory_items'
    ) then
        alter publication supabase_realtime add table public.inventory_items;
    end if;
end
$realtime$;
