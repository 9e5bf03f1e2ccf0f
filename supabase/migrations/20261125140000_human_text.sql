-- Human text: one shared rule for every name, label and note people type and other people read.
--
-- A clean text is trimmed (no leading or trailing blank or invisible characters),
-- holds no control characters (C0, C1, line/paragraph separators, bidi overrides),
-- has at least one visible character and at most p_max_length characters.
-- Tables use private.is_clean_text in a check constraint (the backstop whatever
-- the code path) and their validation triggers call private.clean_text, which
-- trims and raises the column's stable error code.

create function private.is_clean_text(p_value text, p_max_length integer)
returns boolean
language sql
immutable
parallel safe
security invoker
set search_path = ''
as $$
    select
        p_value is not null
        and char_length(p_value) between 1 and p_max_length
        -- nothing invisible at either end
        and p_value !~ U&'^[\0020\00A0\00AD\034F\115F\1160\1680\180E\2000-\200F\202F\205F-\2064\3000\3164\FEFF\FFA0[:space:]]'
        and p_value !~ U&'[\0020\00A0\00AD\034F\115F\1160\1680\180E\2000-\200F\202F\205F-\2064\3000\3164\FEFF\FFA0[:space:]]$'
        -- no control characters (tabs and newlines included), separators or bidi controls
        and p_value !~ U&'[\0001-\001F\007F-\009F\2028\2029\202A-\202E\2066-\2069]'
        -- at least one character that is neither blank nor invisible
        and p_value ~ U&'[^\0020\00A0\00AD\034F\115F\1160\1680\180E\2000-\200F\202F\205F-\2064\3000\3164\FEFF\FFA0[:space:]]';
$$;

comment on function private.is_clean_text(text, integer) is
'Whether a human text is trimmed, free of control characters, visible and at most p_max_length long.';

create function private.clean_text(p_value text, p_max_length integer, p_error_code text)
returns text
language plpgsql
immutable
security invoker
set search_path = ''
as $$
declare
    v_trimmed text := pg_catalog.regexp_replace(
        p_value,
        U&'^[\0020\00A0\00AD\034F\115F\1160\1680\180E\2000-\200F\202F\205F-\2064\3000\3164\FEFF\FFA0[:space:]]+|[\0020\00A0\00AD\034F\115F\1160\1680\180E\2000-\200F\202F\205F-\2064\3000\3164\FEFF\FFA0[:space:]]+$',
        '',
        'g'
    );
begin
    if not private.is_clean_text(v_trimmed, p_max_length) then
        perform private.raise_error(
            p_error_code,
            format(
                'Text needs 1 to %s characters with at least one visible character and no control characters.',
                p_max_length
            )
        );
    end if;
    return v_trimmed;
end
$$;

comment on function private.clean_text(text, integer, text) is
'Trims a human text and returns it, or raises p_error_code when it is not clean (see is_clean_text).';

-- Check constraints run with the caller's privileges: API roles that write
-- tables directly need to execute the predicate (it reads nothing).
revoke execute on function private.is_clean_text(text, integer), private.clean_text(text, integer, text) from public;
grant execute on function private.is_clean_text(text, integer), private.clean_text(text, integer, text)
to authenticated, service_role;

-- Workspaces: the name rule becomes the shared one.
update private.error_codes
set description = 'A name needs 1 to 120 characters, at least one visible, and no control characters.'
where code = 'invalid_name';

create or replace function private.validate_workspace()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
begin
    new.name := private.clean_text(new.name, 120, 'invalid_name');
    if
        new.slug is null
        or char_length(new.slug) not between 3 and 63
        or new.slug !~ '^[a-z0-9]+(-[a-z0-9]+)*$'
    then
        perform private.raise_error('invalid_slug');
    end if;
    if (tg_op = 'INSERT' or new.slug is distinct from old.slug) and private.slug_in_use(new.slug, new.id) then
        perform private.raise_error('slug_taken', format('The slug "%s" is taken.', new.slug));
    end if;
    if
        (tg_op = 'INSERT' or new.timezone is distinct from old.timezone)
        and not private.is_valid_timezone(new.timezone)
    then
        perform private.raise_error('invalid_timezone');
    end if;
    return new;
end
$$;

alter table public.workspaces
add constraint workspaces_name_is_clean check (private.is_clean_text(name, 120));

-- Profiles: a full name may be empty (sign-up without one), otherwise clean.
insert into private.error_codes (code, http_status, description) values
(
    'invalid_full_name',
    400,
    'A full name has at most 200 characters, at least one visible, and no control characters.'
);

create function private.validate_profile()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
begin
    if new.full_name is null or pg_catalog.btrim(new.full_name) = '' then
        new.full_name := '';
    else
        new.full_name := private.clean_text(new.full_name, 200, 'invalid_full_name');
    end if;
    return new;
end
$$;

comment on function private.validate_profile() is
'Trigger: a profile''s full name is empty or a clean human text (invalid_full_name).';

create trigger profiles_validate
before insert or update of full_name on public.profiles
for each row execute function private.validate_profile();

-- Names that came from sign-up metadata before this rule: keep what is clean, blank the rest.
update public.profiles
set full_name = ''
where full_name <> '' and not private.is_clean_text(full_name, 200);

alter table public.profiles
add constraint profiles_full_name_is_clean check (full_name = '' or private.is_clean_text(full_name, 200));

-- Sign-up metadata is user-controlled: a name that is not clean becomes empty rather than failing sign-up.
create or replace function private.create_profile_for_new_user()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_name text := left(coalesce(new.raw_user_meta_data ->> 'full_name', new.raw_user_meta_data ->> 'name', ''), 200);
begin
    v_name := pg_catalog.btrim(v_name);
    if v_name <> '' and not private.is_clean_text(v_name, 200) then
        v_name := '';
    end if;
    insert into public.profiles (id, email, full_name)
    values (new.id, new.email, v_name)
    on conflict (id) do nothing;
    return new;
end
$$;
