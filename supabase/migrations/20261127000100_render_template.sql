-- Template rendering: placeholders {{name}} filled from a jsonb of values, in one pass.
--
-- Templates are validated on write (only the placeholders of their kind), so a
-- placeholder without a value can only be one whose value is missing for this
-- message (a booking without a practitioner name, say): it renders as empty text.
-- One pass means a value is never rendered again: a customer named "{{manage_link}}"
-- stays that text and cannot pull another value into the message.

-- plpgsql, not sql: a non-inlined SQL function is planned again on every call, plpgsql keeps
-- its plan (a sweep renders thousands of messages).
create function private.render_template(p_text text, p_values jsonb)
returns text
language plpgsql
immutable
parallel safe
security invoker
set search_path = ''
as $$
begin
    if p_text is null or pg_catalog.strpos(p_text, '{{') = 0 then
        return p_text;
    end if;
    -- The text between placeholders and the placeholders themselves, split by the same
    -- pattern: literal n is followed by placeholder n (the last literal by none).
    return (
    with literals as (
        select s.part, s.ordinal
        from pg_catalog.regexp_split_to_table(p_text, '\{\{\s*([a-z][a-z0-9_]*)\s*\}\}')
            with ordinality as s (part, ordinal)
    ),

    placeholders as (
        select m.match[1] as name, m.ordinal
        from pg_catalog.regexp_matches(p_text, '\{\{\s*([a-z][a-z0-9_]*)\s*\}\}', 'g')
            with ordinality as m (match, ordinal)
    )

    select pg_catalog.string_agg(
        l.part || coalesce(coalesce(p_values, '{}'::jsonb) ->> p.name, ''), '' order by l.ordinal
    )
    from literals as l
    left join placeholders as p on l.ordinal = p.ordinal
    );
end
$$;

comment on function private.render_template(text, jsonb) is
'Fills every {{name}} of a template with p_values ->> name (empty when absent), in one pass: values are never re-rendered.';

-- How a time reaches a customer: the workspace's wall clock, in a format that reads the
-- same in every language (ISO date, 24-hour time), with the zone named.
create function private.format_local_time(p_at timestamptz, p_timezone text)
returns text
language plpgsql
stable
parallel safe
security invoker
set search_path = ''
as $$
begin
    return pg_catalog.to_char(p_at at time zone p_timezone, 'YYYY-MM-DD HH24:MI') || ' (' || p_timezone || ')';
end
$$;

comment on function private.format_local_time(timestamptz, text) is
'A time as customers read it: "2026-12-01 14:30 (Europe/Paris)", wall clock of the given IANA zone.';

revoke execute on function
private.render_template(text, jsonb),
private.format_local_time(timestamptz, text)
from public;
grant execute on function
private.render_template(text, jsonb),
private.format_local_time(timestamptz, text)
to service_role;
