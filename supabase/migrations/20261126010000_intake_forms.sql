-- Intake forms: templates of questions a customer answers before a visit.
--
-- The field schema is a JSON array validated (and normalised) on every write by
-- private.validate_form_fields, with one stable code per problem. Forms are
-- attached to booking types by a later migration (booking_type_forms).

-- invalid_description (descriptions) is registered by the booking types migration.
insert into private.error_codes (code, http_status, description) values
('invalid_form_fields', 400, 'A form''s fields are a JSON array of 1 to 100 field objects.'),
(
    'unknown_field_property',
    400,
    'A form field has only the properties key, type, label, required and (for a choice) options.'
),
(
    'invalid_field_key',
    400,
    'A field key is snake_case: lowercase letters and digits in words joined by single underscores, at most 63.'
),
('duplicate_field_key', 400, 'Two fields of the form have the same key.'),
(
    'unknown_field_type',
    400,
    'A field type is one of text, long_text, choice, checkbox, date, email, phone.'
),
(
    'invalid_field_label',
    400,
    'A field label has 1 to 200 characters, at least one visible, and no control characters.'
),
('invalid_field_required', 400, 'A field''s required flag is true or false.'),
('missing_field_options', 400, 'A choice field needs a non-empty array of options (at most 100).'),
(
    'invalid_field_option',
    400,
    'A choice option is a text of 1 to 200 characters, at least one visible, and no control characters.'
),
('duplicate_field_option', 400, 'A choice field lists the same option twice.'),
('unexpected_field_options', 400, 'Only choice fields have options.');

-- Returns the fields normalised (labels and options trimmed, required defaulting to
-- false, properties in a fixed order) or raises the code of the first problem.
create function private.validate_form_fields(p_fields jsonb)
returns jsonb
language plpgsql
immutable
security invoker
set search_path = ''
as $$
declare
    v_field jsonb;
    v_position integer := 0;
    v_key text;
    v_type text;
    v_label text;
    v_required boolean;
    v_options jsonb;
    v_option jsonb;
    v_clean_options text[];
    v_option_text text;
    v_keys text[] := '{}'::text[];
    v_result jsonb := '[]'::jsonb;
    v_where text;
begin
    if
        p_fields is null
        or pg_catalog.jsonb_typeof(p_fields) <> 'array'
        or pg_catalog.jsonb_array_length(p_fields) not between 1 and 100
    then
        perform private.raise_error('invalid_form_fields');
    end if;
    for v_field in select f.value from pg_catalog.jsonb_array_elements(p_fields) as f loop
        v_position := v_position + 1;
        v_where := format('Field %s', v_position);
        if pg_catalog.jsonb_typeof(v_field) <> 'object' then
            perform private.raise_error('invalid_form_fields', v_where || ' is not an object.');
        end if;
        if exists (
            select 1 from pg_catalog.jsonb_object_keys(v_field) as k (name)
            where k.name not in ('key', 'type', 'label', 'required', 'options')
        ) then
            perform private.raise_error(
                'unknown_field_property',
                v_where || ' has a property other than key, type, label, required and options.'
            );
        end if;

        if
            pg_catalog.jsonb_typeof(v_field -> 'key') is distinct from 'string'
            or char_length(v_field ->> 'key') > 63
            or (v_field ->> 'key') !~ '^[a-z][a-z0-9]*(_[a-z0-9]+)*$'
        then
            perform private.raise_error(
                'invalid_field_key', v_where || ' needs a snake_case key (for example "date_of_birth").'
            );
        end if;
        v_key := v_field ->> 'key';
        v_where := format('Field %s ("%s")', v_position, v_key);
        if v_key = any(v_keys) then
            perform private.raise_error('duplicate_field_key', format('The key "%s" is used twice.', v_key));
        end if;
        v_keys := v_keys || v_key;

        v_type := case when pg_catalog.jsonb_typeof(v_field -> 'type') = 'string' then v_field ->> 'type' end;
        if
            v_type is null
            or v_type not in ('text', 'long_text', 'choice', 'checkbox', 'date', 'email', 'phone')
        then
            perform private.raise_error(
                'unknown_field_type',
                v_where || ' has a type other than text, long_text, choice, checkbox, date, email, phone.'
            );
        end if;

        if pg_catalog.jsonb_typeof(v_field -> 'label') is distinct from 'string' then
            perform private.raise_error('invalid_field_label', v_where || ' needs a label.');
        end if;
        v_label := private.clean_text(v_field ->> 'label', 200, 'invalid_field_label');

        if not v_field ? 'required' then
            v_required := false;
        elsif pg_catalog.jsonb_typeof(v_field -> 'required') = 'boolean' then
            v_required := (v_field -> 'required')::boolean;
        else
            perform private.raise_error('invalid_field_required', v_where || ': required is true or false.');
        end if;

        v_options := v_field -> 'options';
        if v_type <> 'choice' then
            if v_options is not null then
                perform private.raise_error('unexpected_field_options', v_where || ' is not a choice field.');
            end if;
            v_result := v_result || pg_catalog.jsonb_build_array(
                pg_catalog.jsonb_build_object('key', v_key, 'type', v_type, 'label', v_label, 'required', v_required)
            );
            continue;
        end if;

        if
            pg_catalog.jsonb_typeof(v_options) is distinct from 'array'
            or pg_catalog.jsonb_array_length(v_options) not between 1 and 100
        then
            perform private.raise_error('missing_field_options', v_where || ' needs 1 to 100 options.');
        end if;
        v_clean_options := '{}'::text[];
        for v_option in select o.value from pg_catalog.jsonb_array_elements(v_options) as o loop
            if pg_catalog.jsonb_typeof(v_option) <> 'string' then
                perform private.raise_error('invalid_field_option', v_where || ' has an option that is not a text.');
            end if;
            v_option_text := private.clean_text(v_option #>> '{}', 200, 'invalid_field_option');
            if v_option_text = any(v_clean_options) then
                perform private.raise_error(
                    'duplicate_field_option', format('%s lists "%s" twice.', v_where, v_option_text)
                );
            end if;
            v_clean_options := v_clean_options || v_option_text;
        end loop;
        v_result := v_result || pg_catalog.jsonb_build_array(
            pg_catalog.jsonb_build_object(
                'key', v_key, 'type', v_type, 'label', v_label, 'required', v_required,
                'options', pg_catalog.to_jsonb(v_clean_options)
            )
        );
    end loop;
    return v_result;
end
$$;

comment on function private.validate_form_fields(jsonb) is
'The form field schema, normalised, or the code of its first problem: invalid_form_fields, unknown_field_property, invalid_field_key, duplicate_field_key, unknown_field_type, invalid_field_label, invalid_field_required, missing_field_options, invalid_field_option, duplicate_field_option, unexpected_field_options.';

revoke execute on function private.validate_form_fields(jsonb) from public;
grant execute on function private.validate_form_fields(jsonb) to authenticated, service_role;

create table public.intake_forms (
    id uuid primary key default gen_random_uuid(),
    workspace_id uuid not null references public.workspaces (id) on delete cascade,
    name text not null check (private.is_clean_text(name, 120)),
    description text check (description is null or private.is_clean_multiline_text(description, 2000)),
    fields jsonb not null check (jsonb_typeof(fields) = 'array'),  -- noqa: RF04
    active boolean not null default true,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    -- Target of the composite foreign keys that keep attachments inside one workspace.
    constraint intake_forms_workspace_id_id_key unique (workspace_id, id)
);

comment on table public.intake_forms is
'Intake form templates: the questions a customer answers before a visit. Owners write them; members read them.';
comment on column public.intake_forms.description is 'Shown above the questions; optional, line breaks kept.';
comment on column public.intake_forms.fields is
'Questions in order: [{"key": "snake_case", "type": "text|long_text|choice|checkbox|date|email|phone", "label": "...", "required": false, "options": ["..."] (choice only)}], normalised on write.';
comment on column public.intake_forms.active is 'Inactive forms are kept but no longer sent.';

alter table public.intake_forms enable row level security;

revoke all on public.intake_forms from anon, authenticated;
grant select, delete on public.intake_forms to authenticated;
grant insert (workspace_id, name, description, fields, active) on public.intake_forms to authenticated;
grant update (name, description, fields, active) on public.intake_forms to authenticated;
grant all on public.intake_forms to service_role;

create trigger intake_forms_touch_updated_at
before update on public.intake_forms
for each row execute function private.touch_updated_at();

create function private.validate_intake_form()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
begin
    new.name := private.clean_text(new.name, 120, 'invalid_name');
    if nullif(pg_catalog.btrim(new.description), '') is null then
        new.description := null;
    else
        new.description := private.clean_multiline_text(new.description, 2000, 'invalid_description');
    end if;
    new.fields := private.validate_form_fields(new.fields);
    return new;
end
$$;

comment on function private.validate_intake_form() is
'Trigger: trims name and description and validates the field schema, raising its stable codes.';

create trigger intake_forms_validate
before insert or update of name, description, fields on public.intake_forms
for each row execute function private.validate_intake_form();

create policy "members read their workspaces' intake forms"
on public.intake_forms for select to authenticated
using (workspace_id = any((select private.member_workspace_ids())::uuid[]));

create policy "owners add intake forms"
on public.intake_forms for insert to authenticated
with check (workspace_id = any((select private.owner_workspace_ids())::uuid[]));

create policy "owners update intake forms"
on public.intake_forms for update to authenticated
using (workspace_id = any((select private.owner_workspace_ids())::uuid[]))
with check (workspace_id = any((select private.owner_workspace_ids())::uuid[]));

create policy "owners delete intake forms"
on public.intake_forms for delete to authenticated
using (workspace_id = any((select private.owner_workspace_ids())::uuid[]));
