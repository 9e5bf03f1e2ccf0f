-- What a booking type brings along: the intake forms sent for it and the stock each booking uses.
--
-- Both tables carry workspace_id and reach the booking type, the form and the
-- item through composite foreign keys on (workspace_id, id), so a row can never
-- join a form or item of one workspace to a booking type of another.

insert into private.error_codes (code, http_status, description) values
('invalid_usage_quantity', 400, 'The quantity used per booking is a number above 0, at most 1000000.');

-- Forms per booking type -----------------------------------------------------------------------

create table public.booking_type_forms (
    workspace_id uuid not null references public.workspaces (id) on delete cascade,
    booking_type_id uuid not null,
    form_id uuid not null,
    created_at timestamptz not null default now(),
    primary key (booking_type_id, form_id),
    constraint booking_type_forms_booking_type_fkey foreign key (workspace_id, booking_type_id)
    references public.booking_types (workspace_id, id) on delete cascade,
    constraint booking_type_forms_form_fkey foreign key (workspace_id, form_id)
    references public.intake_forms (workspace_id, id) on delete cascade
);

comment on table public.booking_type_forms is
'Which intake forms a booking of the type sends; type and form belong to the same workspace (composite foreign keys).';

create index booking_type_forms_form_idx on public.booking_type_forms (workspace_id, form_id);
create index booking_type_forms_workspace_type_idx on public.booking_type_forms (workspace_id, booking_type_id);

alter table public.booking_type_forms enable row level security;

revoke all on public.booking_type_forms from anon, authenticated;
grant select, delete on public.booking_type_forms to authenticated;
grant insert (workspace_id, booking_type_id, form_id) on public.booking_type_forms to authenticated;
grant all on public.booking_type_forms to service_role;

create policy "members read which forms their workspaces' booking types send"
on public.booking_type_forms for select to authenticated
using (workspace_id = any((select private.member_workspace_ids())::uuid[]));

create policy "owners attach forms to booking types"
on public.booking_type_forms for insert to authenticated
with check (workspace_id = any((select private.owner_workspace_ids())::uuid[]));

create policy "owners detach forms from booking types"
on public.booking_type_forms for delete to authenticated
using (workspace_id = any((select private.owner_workspace_ids())::uuid[]));

-- Inventory usage per booking type -------------------------------------------------------------

create table public.booking_type_inventory_usage (
    workspace_id uuid not null references public.workspaces (id) on delete cascade,
    booking_type_id uuid not null,
    item_id uuid not null,
    quantity_per_booking numeric not null check (quantity_per_booking > 0 and quantity_per_booking <= 1000000),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    primary key (booking_type_id, item_id),
    constraint booking_type_inventory_usage_booking_type_fkey foreign key (workspace_id, booking_type_id)
    references public.booking_types (workspace_id, id) on delete cascade,
    constraint booking_type_inventory_usage_item_fkey foreign key (workspace_id, item_id)
    references public.inventory_items (workspace_id, id) on delete cascade
);

comment on table public.booking_type_inventory_usage is
'Stock one completed booking of the type uses; type and item belong to the same workspace (composite foreign keys).';
comment on column public.booking_type_inventory_usage.quantity_per_booking is
'How much of the item (in its unit) one booking uses; completing a booking subtracts it from the stock.';

create index booking_type_inventory_usage_item_idx on public.booking_type_inventory_usage (workspace_id, item_id);
create index booking_type_inventory_usage_workspace_type_idx
on public.booking_type_inventory_usage (workspace_id, booking_type_id);

alter table public.booking_type_inventory_usage enable row level security;

revoke all on public.booking_type_inventory_usage from anon, authenticated;
grant select, delete on public.booking_type_inventory_usage to authenticated;
grant insert (workspace_id, booking_type_id, item_id, quantity_per_booking)
on public.booking_type_inventory_usage to authenticated;
grant update (quantity_per_booking) on public.booking_type_inventory_usage to authenticated;
grant all on public.booking_type_inventory_usage to service_role;

create trigger booking_type_inventory_usage_touch_updated_at
before update on public.booking_type_inventory_usage
for each row execute function private.touch_updated_at();

create function private.validate_booking_type_inventory_usage()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
begin
    if new.quantity_per_booking is null or not (new.quantity_per_booking > 0 and new.quantity_per_booking <= 1000000) then
        perform private.raise_error('invalid_usage_quantity');
    end if;
    return new;
end
$$;

comment on function private.validate_booking_type_inventory_usage() is
'Trigger: the quantity used per booking is above 0 and at most 1000000 (invalid_usage_quantity).';

create trigger booking_type_inventory_usage_validate
before insert or update on public.booking_type_inventory_usage
for each row execute function private.validate_booking_type_inventory_usage();

create policy "members read their workspaces' inventory usage"
on public.booking_type_inventory_usage for select to authenticated
using (workspace_id = any((select private.member_workspace_ids())::uuid[]));

create policy "owners add inventory usage"
on public.booking_type_inventory_usage for insert to authenticated
with check (workspace_id = any((select private.owner_workspace_ids())::uuid[]));

create policy "owners change inventory usage"
on public.booking_type_inventory_usage for update to authenticated
using (workspace_id = any((select private.owner_workspace_ids())::uuid[]))
with check (workspace_id = any((select private.owner_workspace_ids())::uuid[]));

create policy "owners remove inventory usage"
on public.booking_type_inventory_usage for delete to authenticated
using (workspace_id = any((select private.owner_workspace_ids())::uuid[]));
