-- Profiles: one row per auth user, made by a trigger on auth.users as GoTrue sign-up inserts it.

create table public.profiles (
    id uuid primary key references auth.users (id) on delete cascade,
    email text,
    full_name text not null default '' check (char_length(full_name) <= 200),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

comment on table public.profiles is
'The public face of a user: name and email, readable by the user and their co-members.';

alter table public.profiles enable row level security;

revoke all on public.profiles from anon, authenticated;
grant select on public.profiles to authenticated;
grant update (full_name) on public.profiles to authenticated;
grant all on public.profiles to service_role;

create trigger profiles_touch_updated_at
before update on public.profiles
for each row execute function private.touch_updated_at();

create function private.create_profile_for_new_user()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    insert into public.profiles (id, email, full_name)
    values (
        new.id,
        new.email,
        left(coalesce(new.raw_user_meta_data ->> 'full_name', new.raw_user_meta_data ->> 'name', ''), 200)
    )
    on conflict (id) do nothing;
    return new;
end
$$;

comment on function private.create_profile_for_new_user() is
'Trigger on auth.users: creates the profile of every new user.';

create function private.sync_profile_email()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    update public.profiles set email = new.email where id = new.id;
    return new;
end
$$;

comment on function private.sync_profile_email() is
'Trigger on auth.users: keeps profiles.email equal to the confirmed auth email.';

create trigger on_auth_user_created
after insert on auth.users
for each row execute function private.create_profile_for_new_user();

create trigger on_auth_user_email_changed
after update of email on auth.users
for each row when (old.email is distinct from new.email)
execute function private.sync_profile_email();
