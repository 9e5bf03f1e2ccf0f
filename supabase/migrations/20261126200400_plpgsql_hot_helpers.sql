-- The small helpers every booking calls several times become plpgsql, same bodies.
--
-- A `language sql` function with `set search_path = ''` is never inlined, and
-- PostgreSQL 15 parses and plans its body again in every statement that calls it (SQL
-- functions keep no plan across statements before PostgreSQL 18); plpgsql keeps its
-- plans for the session. book_appointment calls these in its own checks, in the
-- contacts trigger and in check constraints (bench/booking.py, docs/benchmarks.md).
-- Same signatures, volatility and results; only the language changes.

create or replace function private.is_clean_text(p_value text, p_max_length integer)
returns boolean
language plpgsql
immutable
parallel safe
security invoker
set search_path = ''
as $$
begin
    return
        p_value is not null
        and char_length(p_value) between 1 and p_max_length
        -- nothing invisible at either end
        and p_value !~ U&'^[\0020\00A0\00AD\034F\115F\1160\1680\180E\2000-\200F\202F\205F-\2064\3000\3164\FEFF\FFA0[:space:]]'
        and p_value !~ U&'[\0020\00A0\00AD\034F\115F\1160\1680\180E\2000-\200F\202F\205F-\2064\3000\3164\FEFF\FFA0[:space:]]$'
        -- no control characters (tabs and newlines included), separators or bidi controls
        and p_value !~ U&'[\0001-\001F\007F-\009F\2028\2029\202A-\202E\2066-\2069]'
        -- at least one character that is neither blank nor invisible
        and p_value ~ U&'[^\0020\00A0\00AD\034F\115F\1160\1680\180E\2000-\200F\202F\205F-\2064\3000\3164\FEFF\FFA0[:space:]]';
end
$$;

create or replace function private.normalize_email(p_email text)
returns text
language plpgsql
immutable
security invoker
set search_path = ''
as $$
begin
    return case
        when char_length(btrim(p_email)) <= 254
            and lower(btrim(p_email)) ~ '^[a-z0-9.!#$%&''*+/=?^_`{|}~-]+@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$'
            then lower(btrim(p_email))
    end;
end
$$;

create or replace function private.token_hash(p_token text)
returns bytea
language plpgsql
immutable
security invoker
set search_path = ''
as $$
begin
    return pg_catalog.sha256(pg_catalog.convert_to(p_token, 'UTF8'));
end
$$;

create or replace function private.new_token()
returns text
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
    return pg_catalog.translate(pg_catalog.encode(extensions.gen_random_bytes(32), 'base64'), '+/=', '-_');
end
$$;
