-- Onboarding: communication settings, templates, forms, inventory, booking types, practitioners, activation.
--
-- One migration per domain, each in the same section order. Until the first hosted release a
-- definition is changed here, in place (docs/development.md, "Migrations"); docs/schema/ shows every object.
-- ==============================================================================================
--
-- Communication settings: which channels a workspace uses and who its messages come from.
--
-- Also the shared helpers private.normalize_phone (E.164) and multi-line clean text.
-- A trigger on workspaces gives every new workspace its settings row (existing
-- workspaces are backfilled below). Provider credentials never live here: the
-- worker reads them from its environment.
--
-- Message templates: what each kind of message says, per channel, with named {{placeholders}}.
--
-- The workspace trigger of the communication settings migration now also
-- creates the default templates (existing workspaces are backfilled below).
--
-- Intake forms: templates of questions a customer answers before a visit.
--
-- The field schema is a JSON array validated (and normalised) on every write by
-- private.validate_form_fields, with one stable code per problem. Forms are
-- attached to booking types by a later migration (booking_type_forms).
--
-- Inventory: stock items with a low-stock threshold. Owners manage items; staff record stock counts.
--
-- Staff and owners share the authenticated role, so a column grant alone cannot
-- tell them apart: the grant lists every column the frontend may change, and a
-- trigger refuses (forbidden) a staff update that touches anything but quantity.
--
-- Booking types: what the public can book (duration, buffers, notice, horizon, interval, capacity).
--
-- Owners write them directly with supabase-js under RLS; members read them. A
-- validation trigger trims the texts, fills the slot interval (default: the
-- duration) and raises a stable code for each rule; check constraints are the
-- backstop whatever the code path. Which practitioners perform a type lives in
-- public.booking_type_practitioners (the practitioners migration).
--
-- Practitioners and their hours: who takes bookings, which booking types they perform,
-- weekly rules, date overrides and workspace closures.
--
-- Hours are local wall-clock times (time without time zone) in the workspace's
-- IANA zone; private.practitioner_windows converts them to timestamptz at query
-- time, so DST is Postgres' job. Weekdays are ISO: 1 = Monday .. 7 = Sunday
-- (extract(isodow from date)). A window never crosses midnight; '24:00' ends a
-- window at the end of its day.
--
-- A date with override rows for a practitioner replaces that day's weekly rules:
-- one row without times means off all day, rows with times are that day's windows
-- (extra hours are replacement windows that include them). A workspace closure
-- closes the date for everyone, whatever the rules and overrides say.
--
-- Activation: a checklist of what a workspace needs before the public can book it,
-- activate_workspace (owners) that activates or says what is missing, the same
-- checklist for members at any time, and suspend_workspace for owners.
--
-- Checklist codes (stable; the onboarding UI switches on them):
--   email_sender       the email channel is on and has a sender address (confirmations go by email)
--   sms_sender         the SMS channel is off, or on with a sender number (reminders would fail otherwise)
--   bookable_type      an active booking type performed by an active practitioner with weekly hours
--   practitioner_names every active practitioner of an active booking type has a full name
--                      (the public page shows it, and never an email)
--
-- The public booking page: what anon sees of an active workspace (anon reads no table).
--
-- What a booking type brings along: the intake forms sent for it and the stock each booking uses.
--
-- Both tables carry workspace_id and reach the booking type, the form and the
-- item through composite foreign keys on (workspace_id, id), so a row can never
-- join a form or item of one workspace to a booking type of another.

-- Functions the tables below use in constraints and generated columns -------------------

-- Multi-line human text (message bodies, descriptions) ---------------------------------------

-- Like private.is_clean_text, but line breaks (LF) and tabs are allowed inside.
create function private.is_clean_multiline_text(p_value text, p_max_length integer)
returns boolean
language sql
immutable
parallel safe
security invoker
set search_path = ''
as $$
    -- The one-line rule, with each line feed and tab read as a blank: they may stand
    -- inside the text, not at its ends (one character for one, so the length holds).
    select private.is_clean_text(pg_catalog.translate(p_value, E'\n\t', '  '), p_max_length);
$$;

comment on function private.is_clean_multiline_text(text, integer) is
'Whether a multi-line human text is trimmed, visible, at most p_max_length long, with no control characters but LF and tab.';

-- The pattern is private.render_template's.
create function private.template_format(p_text text)
returns text
language plpgsql
immutable
parallel safe
security invoker
set search_path = ''
as $$
declare
    v_literals text[];
    v_format text;
begin
    if p_text is null then
        return null;
    end if;
    v_literals := pg_catalog.regexp_split_to_array(p_text, '\{\{\s*([a-z][a-z0-9_]*)\s*\}\}');
    v_format := pg_catalog.replace(v_literals[1], '%', '%%');
    for v_position in 2 .. pg_catalog.cardinality(v_literals) loop
        v_format := v_format || '%' || (v_position - 1) || '$s' || pg_catalog.replace(v_literals[v_position], '%', '%%');
    end loop;
    return v_format;
end
$$;

comment on function private.template_format(text) is
'A template as a format() string: its literal text (''%'' doubled) with %<n>$s for its n-th placeholder; fill it with the values of private.template_placeholder_names(text) in order.';

create function private.template_placeholder_names(p_text text)
returns text[]
language plpgsql
immutable
parallel safe
security invoker
set search_path = ''
as $$
begin
    if p_text is null then
        return null;
    end if;
    return array(
        select m.match[1]
        from pg_catalog.regexp_matches(p_text, '\{\{\s*([a-z][a-z0-9_]*)\s*\}\}', 'g')
            with ordinality as m (match, ordinal)
        order by m.ordinal
    );
end
$$;

comment on function private.template_placeholder_names(text) is
'The placeholder names of a template in the order they appear (repeats included): argument n of private.template_format(text).';

-- Tables --------------------------------------------------------------------------------

-- Communication settings ---------------------------------------------------------------------
create table public.communication_settings (
    workspace_id uuid primary key references public.workspaces (id) on delete cascade,
    email_enabled boolean not null default true,
    sms_enabled boolean not null default false,
    sender_name text check (sender_name is null or private.is_clean_text(sender_name, 120)),
    sender_email text check (sender_email is null or sender_email = private.normalize_email(sender_email)),
    reply_to_email text check (reply_to_email is null or reply_to_email = private.normalize_email(reply_to_email)),
    sms_from_number text check (sms_from_number is null or sms_from_number ~ '^\+[1-9][0-9]{6,14}$'),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    automation_pause_hours integer default 72
    constraint communication_settings_automation_pause_hours_range check (automation_pause_hours between 1 and 720)
);

comment on table public.communication_settings is
'How a workspace talks to people: which channels are on and who messages come from (one row per workspace, made with it). Provider credentials are not stored here.';

comment on column public.communication_settings.automation_pause_hours is
'After a staff reply, automated messages to that contact are skipped for this many hours; null: until someone resumes automation.';

comment on column public.communication_settings.email_enabled is 'Whether email messages are sent at all.';

comment on column public.communication_settings.sms_enabled is 'Whether SMS messages are sent at all (needs sms_from_number).';

comment on column public.communication_settings.sender_name is
'Display name in the From header; null means the workspace name.';

comment on column public.communication_settings.sender_email is
'Address emails are sent from (lower case); must be a domain the email provider accepts.';

comment on column public.communication_settings.reply_to_email is 'Reply-To address; null means sender_email.';

comment on column public.communication_settings.sms_from_number is 'SMS sender number in E.164 ("+14155550100").';

create table public.message_templates (
    id uuid primary key default gen_random_uuid(),
    workspace_id uuid not null references public.workspaces (id) on delete cascade,
    kind text not null check (kind in (
        'welcome', 'booking_confirmation', 'booking_cancelled', 'booking_rescheduled', 'reminder',
        'form_request', 'form_overdue', 'low_stock', 'staff_invitation'
    )),
    channel text not null check (channel in ('email', 'sms')),
    subject text,
    body text not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    -- Computed after the before-triggers (private.validate_message_template trims the text first).
    subject_format text generated always as (private.template_format(subject)) stored,
    subject_placeholders text[] generated always as (private.template_placeholder_names(subject)) stored,
    body_format text generated always as (private.template_format(body)) stored,
    body_placeholders text[] generated always as (private.template_placeholder_names(body)) stored,
    constraint message_templates_one_per_kind_and_channel unique (workspace_id, kind, channel),
    constraint message_templates_subject_for_email_only check (
        (channel = 'email' and private.is_clean_text(subject, 200))
        or (channel = 'sms' and subject is null)
    ),
    constraint message_templates_body_is_clean check (
        private.is_clean_multiline_text(body, case channel when 'sms' then 1600 else 10000 end)
    )
);

comment on table public.message_templates is
'What each kind of message says, per channel, with {{placeholders}} the renderer fills in. Every workspace gets the defaults; owners edit subject and body.';

comment on column public.message_templates.body_placeholders is
'The placeholder names of body in order (private.template_placeholder_names).';

comment on column public.message_templates.body_format is
'body parsed for rendering (private.template_format): kept by the database, read by private.queue_messages.';

comment on column public.message_templates.subject_placeholders is
'The placeholder names of subject in order (private.template_placeholder_names).';

comment on column public.message_templates.subject_format is
'subject parsed for rendering (private.template_format): kept by the database, read by private.queue_messages.';

comment on column public.message_templates.kind is
'What the message is for; private.template_placeholders(kind) lists the placeholders it may use.';

comment on column public.message_templates.channel is 'email or sms.';

comment on column public.message_templates.subject is 'Email subject line (may use placeholders); null for SMS.';

comment on column public.message_templates.body is
'Message text with {{placeholders}}; plain text, line breaks kept; at most 1600 characters for SMS.';

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

create table public.booking_types (
    id uuid primary key default gen_random_uuid(),
    workspace_id uuid not null references public.workspaces (id) on delete cascade,
    name text not null,
    description text,
    duration_minutes integer not null,
    buffer_before_minutes integer not null default 0,
    buffer_after_minutes integer not null default 0,
    min_notice_minutes integer not null default 0,
    max_days_ahead integer not null default 60,
    slot_interval_minutes integer not null,
    daily_capacity integer,
    location text,  -- noqa: RF04
    active boolean not null default true,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint booking_types_workspace_id_id_key unique (workspace_id, id),
    constraint booking_types_name_is_clean check (private.is_clean_text(name, 120)),
    constraint booking_types_description_is_clean check (
        description is null or private.is_clean_multiline_text(description, 2000)
    ),
    constraint booking_types_location_is_clean check (location is null or private.is_clean_text(location, 200)),
    constraint booking_types_duration_range check (duration_minutes between 1 and 720),
    constraint booking_types_buffer_range check (
        buffer_before_minutes between 0 and 240 and buffer_after_minutes between 0 and 240
    ),
    constraint booking_types_window_range check (
        min_notice_minutes between 0 and 43200
        and max_days_ahead between 1 and 730
        and min_notice_minutes < max_days_ahead * 1440
    ),
    constraint booking_types_slot_interval_range check (slot_interval_minutes between 1 and 720),
    constraint booking_types_daily_capacity_range check (daily_capacity is null or daily_capacity between 1 and 1000)
);

comment on table public.booking_types is
'What the public can book in a workspace: duration, buffers, notice, horizon and who performs it.';

comment on column public.booking_types.duration_minutes is 'Length of the appointment itself (1 to 720 minutes).';

comment on column public.booking_types.buffer_before_minutes is
'Time the practitioner is held before the appointment (preparation), 0 to 240 minutes.';

comment on column public.booking_types.buffer_after_minutes is
'Time the practitioner is held after the appointment (clean-up, notes), 0 to 240 minutes.';

comment on column public.booking_types.min_notice_minutes is
'A slot must start at least this many minutes after the moment of booking.';

comment on column public.booking_types.max_days_ahead is
'A slot must start within this many days of the moment of booking.';

comment on column public.booking_types.slot_interval_minutes is
'Spacing of offered start times from the start of each availability window; defaults to the duration.';

comment on column public.booking_types.daily_capacity is
'At most this many bookings of the type per local day in the workspace; null means no limit.';

comment on column public.booking_types.location is 'Where the appointment happens, as shown to the public.';

comment on column public.booking_types.active is 'Inactive types stay for history but are not offered to the public.';

comment on constraint booking_types_workspace_id_id_key on public.booking_types is
'Target of composite foreign keys, so rows that attach to a type stay in its workspace.';

-- Practitioners -------------------------------------------------------------
create table public.practitioners (
    id uuid primary key default gen_random_uuid(),
    workspace_id uuid not null references public.workspaces (id) on delete cascade,
    user_id uuid not null references public.profiles (id) on delete cascade,
    active boolean not null default true,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint practitioners_workspace_id_user_id_key unique (workspace_id, user_id),
    constraint practitioners_workspace_id_id_key unique (workspace_id, id),
    constraint practitioners_member_fkey foreign key (workspace_id, user_id)
    references public.workspace_members (workspace_id, user_id) on delete cascade
);

comment on table public.practitioners is
'Members who take bookings. The public sees their id and profile full name only (never email or phone).';

comment on column public.practitioners.id is
'The practitioner''s public id (the booking page shows it instead of the user id).';

comment on column public.practitioners.user_id is
'The member''s profile; the display name is profiles.full_name (PostgREST embeds it).';

comment on column public.practitioners.active is
'Inactive practitioners keep their hours and history but are offered to nobody.';

comment on constraint practitioners_member_fkey on public.practitioners is
'A practitioner is a member of the workspace; leaving the workspace removes the practitioner.';

-- Who performs which booking type ---------------------------------------------
create table public.booking_type_practitioners (
    workspace_id uuid not null references public.workspaces (id) on delete cascade,
    booking_type_id uuid not null,
    practitioner_id uuid not null,
    created_at timestamptz not null default now(),
    primary key (booking_type_id, practitioner_id),
    constraint booking_type_practitioners_booking_type_fkey foreign key (workspace_id, booking_type_id)
    references public.booking_types (workspace_id, id) on delete cascade,
    constraint booking_type_practitioners_practitioner_fkey foreign key (workspace_id, practitioner_id)
    references public.practitioners (workspace_id, id) on delete cascade
);

comment on table public.booking_type_practitioners is
'Which practitioners perform a booking type; both belong to the same workspace (composite foreign keys).';

-- Weekly rules ----------------------------------------------------------------
create table public.availability_rules (
    id uuid primary key default gen_random_uuid(),
    workspace_id uuid not null references public.workspaces (id) on delete cascade,
    practitioner_id uuid not null,
    weekday smallint not null,  -- noqa: RF04
    start_time time not null,
    end_time time not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint availability_rules_practitioner_fkey foreign key (workspace_id, practitioner_id)
    references public.practitioners (workspace_id, id) on delete cascade,
    constraint availability_rules_weekday_range check (weekday between 1 and 7),
    constraint availability_rules_end_after_start check (end_time > start_time),
    constraint availability_rules_no_overlap exclude using gist (
        practitioner_id with =,
        weekday with =,
        tsrange(date '2000-01-03' + start_time, date '2000-01-03' + end_time) with &&
    )
);

comment on table public.availability_rules is
'A practitioner''s weekly hours: one row per window, several windows a day, never overlapping.';

comment on column public.availability_rules.weekday is 'ISO weekday: 1 = Monday .. 7 = Sunday.';

comment on column public.availability_rules.start_time is 'Local wall-clock start in the workspace''s time zone.';

comment on column public.availability_rules.end_time is
'Local wall-clock end, after the start; 24:00 ends the window at midnight.';

-- Date overrides ----------------------------------------------------------------
create table public.availability_overrides (
    id uuid primary key default gen_random_uuid(),
    workspace_id uuid not null references public.workspaces (id) on delete cascade,
    practitioner_id uuid not null,
    override_date date not null,
    start_time time,
    end_time time,
    note text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint availability_overrides_practitioner_fkey foreign key (workspace_id, practitioner_id)
    references public.practitioners (workspace_id, id) on delete cascade,
    constraint availability_overrides_off_or_window check (
        (start_time is null and end_time is null) or end_time > start_time
    ),
    constraint availability_overrides_note_is_clean check (note is null or private.is_clean_text(note, 500)),
    -- A day off covers the whole day, so it overlaps (and excludes) any window that date.
    constraint availability_overrides_no_overlap exclude using gist (
        practitioner_id with =,
        override_date with =,
        tsrange(
            override_date + coalesce(start_time, time '00:00'),
            override_date + coalesce(end_time, time '24:00')
        ) with &&
    )
);

comment on table public.availability_overrides is
'Date overrides of a practitioner''s weekly hours: a row without times is a day off, rows with times '
'replace that date''s weekly windows.';

comment on column public.availability_overrides.override_date is 'The local date in the workspace''s time zone.';

comment on column public.availability_overrides.start_time is 'Local start of a replacement window; null for a day off.';

comment on column public.availability_overrides.end_time is 'Local end of a replacement window; null for a day off.';

comment on column public.availability_overrides.note is 'Why (holiday, training), for staff only.';

-- Workspace closures --------------------------------------------------------------
create table public.workspace_closures (
    id uuid primary key default gen_random_uuid(),
    workspace_id uuid not null references public.workspaces (id) on delete cascade,
    closed_on date not null,
    note text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint workspace_closures_one_per_date unique (workspace_id, closed_on),
    constraint workspace_closures_note_is_clean check (note is null or private.is_clean_text(note, 500))
);

comment on table public.workspace_closures is
'Dates the whole workspace is closed (holidays): nobody is available, whatever their hours say.';

comment on column public.workspace_closures.closed_on is 'The local date in the workspace''s time zone.';

comment on column public.workspace_closures.note is 'Why (for example "Christmas Day"), for staff.';

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

-- Indexes -------------------------------------------------------------------------------

create index booking_types_workspace_id_idx on public.booking_types (workspace_id) include (active);

create index practitioners_user_id_idx on public.practitioners (user_id);

create index booking_type_practitioners_practitioner_idx
on public.booking_type_practitioners (workspace_id, practitioner_id);

create index booking_type_practitioners_workspace_type_idx
on public.booking_type_practitioners (workspace_id, booking_type_id);

create index availability_rules_workspace_id_idx on public.availability_rules (workspace_id);

create index availability_rules_practitioner_idx on public.availability_rules (workspace_id, practitioner_id);

create index availability_overrides_workspace_id_idx on public.availability_overrides (workspace_id);

create index availability_overrides_practitioner_idx
on public.availability_overrides (workspace_id, practitioner_id, override_date);

create index booking_type_forms_form_idx on public.booking_type_forms (workspace_id, form_id);

create index booking_type_forms_workspace_type_idx on public.booking_type_forms (workspace_id, booking_type_id);

create index booking_type_inventory_usage_item_idx on public.booking_type_inventory_usage (workspace_id, item_id);

create index booking_type_inventory_usage_workspace_type_idx
on public.booking_type_inventory_usage (workspace_id, booking_type_id);

-- Functions -----------------------------------------------------------------------------

-- Phone numbers ------------------------------------------------------------------------------

-- Accepted: international numbers only, "+" (or the "00" international prefix)
-- then the country code and number, 7 to 15 digits in all, first digit 1-9,
-- optionally grouped with spaces, dots, hyphens, slashes or parentheses
-- ("+33 6 12 34 56 78", "+1 (415) 555-0100", "0044 20 7946 0958").
-- National formats without a country code are refused: the country is unknown.
create function private.normalize_phone(p_phone text)
returns text
language plpgsql
immutable
parallel safe
security invoker
set search_path = ''
as $$
declare
    v_phone text := pg_catalog.btrim(p_phone);
    v_digits text;
begin
    if v_phone is null or char_length(v_phone) > 40 then
        return null;
    end if;
    if v_phone ~ '^00' then
        v_phone := '+' || substr(v_phone, 3);
    end if;
    if v_phone !~ '^\+[0-9 .()/-]+$' then
        return null;
    end if;
    v_digits := pg_catalog.regexp_replace(v_phone, '[^0-9]', '', 'g');
    if v_digits !~ '^[1-9][0-9]{6,14}$' then
        return null;
    end if;
    return '+' || v_digits;
end
$$;

comment on function private.normalize_phone(text) is
'E.164 form (+ and 7 to 15 digits) of an international phone number, or null when it is not one. Accepts "+" or "00", then digits grouped with spaces, dots, hyphens, slashes or parentheses.';

create function private.clean_multiline_text(p_value text, p_max_length integer, p_error_code text)
returns text
language plpgsql
immutable
security invoker
set search_path = ''
as $$
declare
    v_text text := pg_catalog.regexp_replace(
        pg_catalog.replace(p_value, E'\r\n', E'\n'),
        U&'^[\0020\00A0\00AD\034F\115F\1160\1680\180E\2000-\200F\202F\205F-\2064\3000\3164\FEFF\FFA0[:space:]]+|[\0020\00A0\00AD\034F\115F\1160\1680\180E\2000-\200F\202F\205F-\2064\3000\3164\FEFF\FFA0[:space:]]+$',
        '',
        'g'
    );
begin
    if not private.is_clean_multiline_text(v_text, p_max_length) then
        perform private.raise_error(
            p_error_code,
            format(
                'Text needs 1 to %s characters with at least one visible character and no control characters but line breaks and tabs.',
                p_max_length
            )
        );
    end if;
    return v_text;
end
$$;

comment on function private.clean_multiline_text(text, integer, text) is
'Turns CRLF into LF, trims, and returns the text, or raises p_error_code when it is not clean (see is_clean_multiline_text).';

-- Null for a blank value, the normalised address for a valid one, invalid_email otherwise.
create function private.normalize_optional_email(p_email text, p_detail text)
returns text
language plpgsql
immutable
security invoker
set search_path = ''
as $$
declare
    v_email text := private.normalize_email(p_email);
begin
    if nullif(pg_catalog.btrim(p_email), '') is null then
        return null;
    end if;
    if v_email is null then
        perform private.raise_error('invalid_email', p_detail);
    end if;
    return v_email;
end
$$;

comment on function private.normalize_optional_email(text, text) is
'Null for a blank address, else the normalised address or invalid_email with p_detail.';

create function private.validate_communication_settings()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
declare
    v_phone text;
begin
    -- Optional fields: a blank value from a form means "not set".
    new.sender_name := nullif(pg_catalog.btrim(new.sender_name), '');
    if new.sender_name is not null then
        new.sender_name := private.clean_text(new.sender_name, 120, 'invalid_sender_name');
    end if;
    new.sender_email := private.normalize_optional_email(new.sender_email, 'The sender email is not a valid address.');
    new.reply_to_email := private.normalize_optional_email(
        new.reply_to_email, 'The reply-to email is not a valid address.'
    );
    if nullif(pg_catalog.btrim(new.sms_from_number), '') is null then
        new.sms_from_number := null;
    else
        v_phone := private.normalize_phone(new.sms_from_number);
        if v_phone is null then
            perform private.raise_error('invalid_phone', 'The SMS sender number is not an international number.');
        end if;
        new.sms_from_number := v_phone;
    end if;
    return new;
end
$$;

comment on function private.validate_communication_settings() is
'Trigger: blank optional fields become null; sender name, emails and SMS number are normalised or refused (invalid_sender_name, invalid_email, invalid_phone).';

-- Defaults -----------------------------------------------------------------------------------
create function private.default_message_templates()
returns table (kind text, channel text, subject text, body text)
language sql
immutable
security invoker
set search_path = ''
as $$
    values
    (
        'welcome', 'email', 'Welcome to {{workspace_name}}',
        E'Hello {{contact_name}},\n\nThank you for choosing {{workspace_name}}. We look forward to seeing you.\n\n{{workspace_name}}'
    ),
    ('welcome', 'sms', null, 'Welcome to {{workspace_name}}, {{contact_name}}!'),
    (
        'booking_confirmation', 'email', 'Your {{booking_type_name}} on {{starts_at_local}}',
        E'Hello {{contact_name}},\n\nYour {{booking_type_name}} with {{practitioner_name}} is booked for {{starts_at_local}} (until {{ends_at_local}}).\nWhere: {{location}}\n\nTo cancel or reschedule: {{manage_url}}\n\n{{workspace_name}}'
    ),
    (
        'booking_confirmation', 'sms', null,
        '{{workspace_name}}: {{booking_type_name}} booked for {{starts_at_local}} with {{practitioner_name}}. Manage: {{manage_url}}'
    ),
    (
        'booking_cancelled', 'email', 'Cancelled: your {{booking_type_name}} on {{starts_at_local}}',
        E'Hello {{contact_name}},\n\nYour {{booking_type_name}} on {{starts_at_local}} has been cancelled.\n\n{{workspace_name}}'
    ),
    (
        'booking_cancelled', 'sms', null,
        '{{workspace_name}}: your {{booking_type_name}} on {{starts_at_local}} is cancelled.'
    ),
    (
        'booking_rescheduled', 'email', 'New time: your {{booking_type_name}} on {{starts_at_local}}',
        E'Hello {{contact_name}},\n\nYour {{booking_type_name}} with {{practitioner_name}} now takes place on {{starts_at_local}} (until {{ends_at_local}}).\nWhere: {{location}}\n\nTo cancel or reschedule: {{manage_url}}\n\n{{workspace_name}}'
    ),
    (
        'booking_rescheduled', 'sms', null,
        '{{workspace_name}}: your {{booking_type_name}} is now on {{starts_at_local}}. Manage: {{manage_url}}'
    ),
    (
        'reminder', 'email', 'Reminder: {{booking_type_name}} on {{starts_at_local}}',
        E'Hello {{contact_name}},\n\nA reminder of your {{booking_type_name}} with {{practitioner_name}} on {{starts_at_local}}.\nWhere: {{location}}\n\nTo cancel or reschedule: {{manage_url}}\n\n{{workspace_name}}'
    ),
    (
        'reminder', 'sms', null,
        '{{workspace_name}} reminder: {{booking_type_name}} on {{starts_at_local}}. Manage: {{manage_url}}'
    ),
    (
        'form_request', 'email', 'Please fill in: {{form_name}}',
        E'Hello {{contact_name}},\n\nBefore your {{booking_type_name}} on {{starts_at_local}}, please fill in {{form_name}}:\n{{form_url}}\n\n{{workspace_name}}'
    ),
    (
        'form_request', 'sms', null,
        '{{workspace_name}}: please fill in {{form_name}} before your visit: {{form_url}}'
    ),
    (
        'form_overdue', 'email', 'Overdue form: {{form_name}} from {{contact_name}}',
        E'{{contact_name}} has not filled in {{form_name}} for the {{booking_type_name}} on {{starts_at_local}}.'
    ),
    (
        'low_stock', 'email', 'Low stock: {{item_name}}',
        E'{{item_name}} is down to {{quantity}} {{unit}} (threshold {{threshold}} {{unit}}) at {{workspace_name}}.'
    ),
    (
        'staff_invitation', 'email', 'Join {{workspace_name}} on CareOps',
        E'{{inviter_name}} invites you to join {{workspace_name}} as {{role}}.\n\nAccept the invitation: {{invite_url}}\n\nThe invitation expires on {{expires_at_local}}.'
    );
$$;

comment on function private.default_message_templates() is
'The templates every workspace starts with: email for every kind, SMS for the messages to customers.';

create function private.create_communication_defaults(p_workspace_id uuid)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
    insert into public.communication_settings (workspace_id)
    values (p_workspace_id)
    on conflict (workspace_id) do nothing;
    insert into public.message_templates (workspace_id, kind, channel, subject, body)
    select p_workspace_id, d.kind, d.channel, d.subject, d.body
    from private.default_message_templates() as d
    on conflict (workspace_id, kind, channel) do nothing;
end
$$;

comment on function private.create_communication_defaults(uuid) is
'Gives a workspace its communication settings row and any default template it lacks (idempotent).';

create function private.create_communication_defaults_for_new_workspace()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    perform private.create_communication_defaults(new.id);
    return null;
end
$$;

comment on function private.create_communication_defaults_for_new_workspace() is
'Trigger: every new workspace starts with its communication defaults.';

-- Message templates --------------------------------------------------------------------------

-- The placeholders each kind may use; the renderer (automation) provides exactly these.
create function private.template_placeholders(p_kind text)
returns text[]
language sql
immutable
parallel safe
security invoker
set search_path = ''
as $$
    select case p_kind
        when 'welcome' then array['contact_name', 'workspace_name']
        when 'booking_confirmation' then array[
            'contact_name', 'workspace_name', 'booking_type_name', 'practitioner_name',
            'starts_at_local', 'ends_at_local', 'location', 'manage_url'
        ]
        when 'booking_rescheduled' then array[
            'contact_name', 'workspace_name', 'booking_type_name', 'practitioner_name',
            'starts_at_local', 'ends_at_local', 'location', 'manage_url'
        ]
        when 'reminder' then array[
            'contact_name', 'workspace_name', 'booking_type_name', 'practitioner_name',
            'starts_at_local', 'ends_at_local', 'location', 'manage_url'
        ]
        when 'booking_cancelled' then array[
            'contact_name', 'workspace_name', 'booking_type_name', 'practitioner_name',
            'starts_at_local', 'ends_at_local', 'location'
        ]
        when 'form_request' then array[
            'contact_name', 'workspace_name', 'form_name', 'form_url', 'booking_type_name', 'starts_at_local'
        ]
        when 'form_overdue' then array[
            'contact_name', 'workspace_name', 'form_name', 'booking_type_name', 'starts_at_local'
        ]
        when 'low_stock' then array['workspace_name', 'item_name', 'unit', 'quantity', 'threshold']
        when 'staff_invitation' then array[
            'workspace_name', 'invite_url', 'inviter_name', 'role', 'expires_at_local'
        ]
    end;
$$;

comment on function private.template_placeholders(text) is
'Placeholders ({{name}}) a template of this kind may use, as the renderer provides them; null for an unknown kind.';

-- Raises unknown_placeholder / malformed_placeholder for a text that uses anything else.
create function private.check_placeholders(p_kind text, p_text text)
returns void
language plpgsql
immutable
security invoker
set search_path = ''
as $$
declare
    v_allowed text[] := private.template_placeholders(p_kind);
    v_name text;
begin
    if p_text is null then
        return;
    end if;
    for v_name in
        select m[1] from pg_catalog.regexp_matches(p_text, '\{\{\s*([a-z][a-z0-9_]*)\s*\}\}', 'g') as m
    loop
        if not v_name = any(v_allowed) then
            perform private.raise_error(
                'unknown_placeholder',
                format(
                    'A %s template cannot use {{%s}}; it may use: %s.',
                    p_kind, v_name, pg_catalog.array_to_string(v_allowed, ', ')
                )
            );
        end if;
    end loop;
    if pg_catalog.regexp_replace(p_text, '\{\{\s*[a-z][a-z0-9_]*\s*\}\}', '', 'g') ~ '\{\{|\}\}' then
        perform private.raise_error('malformed_placeholder');
    end if;
end
$$;

comment on function private.check_placeholders(text, text) is
'Raises unknown_placeholder when the text uses a placeholder its kind does not provide, malformed_placeholder for stray double braces.';

create function private.validate_message_template()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
begin
    if new.channel = 'sms' then
        if nullif(pg_catalog.btrim(new.subject), '') is not null then
            perform private.raise_error('invalid_template_subject', 'An SMS template has no subject.');
        end if;
        new.subject := null;
    else
        new.subject := private.clean_text(new.subject, 200, 'invalid_template_subject');
    end if;
    new.body := private.clean_multiline_text(
        new.body, case new.channel when 'sms' then 1600 else 10000 end, 'invalid_template_body'
    );
    perform private.check_placeholders(new.kind, new.subject);
    perform private.check_placeholders(new.kind, new.body);
    return new;
end
$$;

comment on function private.validate_message_template() is
'Trigger: trims subject and body and refuses bad ones (invalid_template_subject, invalid_template_body, unknown_placeholder, malformed_placeholder).';

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

create function private.validate_booking_type()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
begin
    new.name := private.clean_text(new.name, 120, 'invalid_name');
    if new.description is not null and pg_catalog.btrim(new.description) = '' then
        new.description := null;
    elsif new.description is not null then
        new.description := private.clean_multiline_text(new.description, 2000, 'invalid_description');
    end if;
    if new.location is not null and pg_catalog.btrim(new.location) = '' then
        new.location := null;
    elsif new.location is not null then
        new.location := private.clean_text(new.location, 200, 'invalid_location');
    end if;
    if new.duration_minutes is null or new.duration_minutes not between 1 and 720 then
        perform private.raise_error('invalid_duration');
    end if;
    if
        new.buffer_before_minutes is null or new.buffer_before_minutes not between 0 and 240
        or new.buffer_after_minutes is null or new.buffer_after_minutes not between 0 and 240
    then
        perform private.raise_error('invalid_buffer');
    end if;
    if
        new.min_notice_minutes is null or new.min_notice_minutes not between 0 and 43200
        or new.max_days_ahead is null or new.max_days_ahead not between 1 and 730
        or new.min_notice_minutes >= new.max_days_ahead * 1440
    then
        perform private.raise_error('invalid_booking_window');
    end if;
    new.slot_interval_minutes := coalesce(new.slot_interval_minutes, new.duration_minutes);
    if new.slot_interval_minutes not between 1 and 720 then
        perform private.raise_error('invalid_slot_interval');
    end if;
    if new.daily_capacity is not null and new.daily_capacity not between 1 and 1000 then
        perform private.raise_error('invalid_daily_capacity');
    end if;
    return new;
end
$$;

comment on function private.validate_booking_type() is
'Trigger: trims texts, defaults the slot interval to the duration and raises invalid_name, invalid_description, '
'invalid_location, invalid_duration, invalid_buffer, invalid_booking_window, invalid_slot_interval or '
'invalid_daily_capacity.';

-- The simplest path needs no extra step: whoever creates a workspace (its first
-- owner) takes bookings from the start.
create function private.make_creator_a_practitioner()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    if new.role = 'owner' and exists (
        select 1 from public.workspaces as w
        where w.id = new.workspace_id and w.created_by = new.user_id
    ) then
        insert into public.practitioners (workspace_id, user_id)
        values (new.workspace_id, new.user_id)
        on conflict (workspace_id, user_id) do nothing;
    end if;
    return null;
end
$$;

comment on function private.make_creator_a_practitioner() is
'Trigger: the workspace creator, joining as owner, becomes its first practitioner.';

-- Practitioner ids of the calling user (one per workspace where they take bookings).
create function private.own_practitioner_ids()
returns uuid[]
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
    return (
        select coalesce(array_agg(p.id), '{}')
        from public.practitioners as p
        where p.user_id = (select auth.uid())
    );
end
$$;

comment on function private.own_practitioner_ids() is
'The calling user''s practitioner ids, for policies that let staff edit their own hours.';

-- Serialises writes to one practitioner's hours so the overlap check in the
-- validation triggers sees every committed window (staff cannot lock the row themselves).
create function private.lock_practitioner_hours(p_practitioner_id uuid)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
    perform 1 from public.practitioners as p where p.id = p_practitioner_id for no key update;
end
$$;

comment on function private.lock_practitioner_hours(uuid) is
'Locks a practitioner row so concurrent writes to their hours check overlaps one after the other.';

create function private.validate_availability_rule()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
begin
    if new.weekday is null or new.weekday not between 1 and 7 then
        perform private.raise_error('invalid_weekday');
    end if;
    if new.start_time is null or new.end_time is null or new.end_time <= new.start_time then
        perform private.raise_error('invalid_time_window');
    end if;
    perform private.lock_practitioner_hours(new.practitioner_id);
    if exists (
        select 1 from public.availability_rules as r
        where
            r.practitioner_id = new.practitioner_id
            and r.weekday = new.weekday
            and r.id <> new.id
            and r.start_time < new.end_time
            and new.start_time < r.end_time
    ) then
        perform private.raise_error(
            'availability_overlap',
            format('%s-%s overlaps another window on weekday %s.', new.start_time, new.end_time, new.weekday)
        );
    end if;
    return new;
end
$$;

comment on function private.validate_availability_rule() is
'Trigger: raises invalid_weekday, invalid_time_window or availability_overlap (the exclusion constraint is the backstop).';

create function private.validate_availability_override()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
begin
    if new.override_date is null then
        perform private.raise_error('invalid_date');
    end if;
    if
        (new.start_time is null) <> (new.end_time is null)
        or (new.start_time is not null and new.end_time <= new.start_time)
    then
        perform private.raise_error('invalid_time_window');
    end if;
    if new.note is not null and pg_catalog.btrim(new.note) = '' then
        new.note := null;
    elsif new.note is not null then
        new.note := private.clean_text(new.note, 500, 'invalid_note');
    end if;
    perform private.lock_practitioner_hours(new.practitioner_id);
    if exists (
        select 1 from public.availability_overrides as o
        where
            o.practitioner_id = new.practitioner_id
            and o.override_date = new.override_date
            and o.id <> new.id
            and coalesce(o.start_time, time '00:00') < coalesce(new.end_time, time '24:00')
            and coalesce(new.start_time, time '00:00') < coalesce(o.end_time, time '24:00')
    ) then
        perform private.raise_error(
            'availability_overlap',
            format('The override overlaps another override on %s (a day off excludes windows).', new.override_date)
        );
    end if;
    return new;
end
$$;

comment on function private.validate_availability_override() is
'Trigger: raises invalid_date, invalid_time_window, invalid_note or availability_overlap.';

create function private.validate_workspace_closure()
returns trigger
language plpgsql
security invoker
set search_path = ''
as $$
begin
    if new.closed_on is null then
        perform private.raise_error('invalid_date');
    end if;
    if new.note is not null and pg_catalog.btrim(new.note) = '' then
        new.note := null;
    elsif new.note is not null then
        new.note := private.clean_text(new.note, 500, 'invalid_note');
    end if;
    return new;
end
$$;

comment on function private.validate_workspace_closure() is
'Trigger: raises invalid_date or invalid_note.';

-- Local wall-clock time -> instant --------------------------------------------------

-- The first instant at which the zone's clock shows p_local, or null when it never does
-- (a spring-forward gap). PostgreSQL reads an ambiguous local time as its later
-- occurrence; the earlier one is the same wall time with the offset in force two hours
-- before (longer than any DST shift), when that lands on the same wall time.
create function private.first_instant(p_local timestamp, p_timezone text)
returns timestamptz
language plpgsql
stable
parallel safe
security invoker
set search_path = ''
as $$
declare
    v_later timestamptz := p_local at time zone p_timezone;
    v_before timestamptz;
    v_earlier timestamptz;
begin
    if v_later is null or (v_later at time zone p_timezone) <> p_local then
        return null;
    end if;
    v_before := v_later - interval '2 hours';
    v_earlier := (p_local - ((v_before at time zone p_timezone) - (v_before at time zone 'UTC'))) at time zone 'UTC';
    if v_earlier < v_later and (v_earlier at time zone p_timezone) = p_local then
        return v_earlier;
    end if;
    return v_later;
end
$$;

comment on function private.first_instant(timestamp, text) is
'First instant the zone''s clock shows the local time; null when a DST gap skips it.';

-- A window bound: its first occurrence, or inside a gap the offset from before the gap.
create function private.window_bound(p_local timestamp, p_timezone text)
returns timestamptz
language plpgsql
stable
parallel safe
security invoker
set search_path = ''
as $$
begin
    return coalesce(private.first_instant(p_local, p_timezone), p_local at time zone p_timezone);
end
$$;

comment on function private.window_bound(timestamp, text) is
'Instant of a window''s local start or end: first occurrence; in a DST gap, the offset from before the gap.';

-- Whether a DST change (or any offset change) comes within three hours of the local
-- date: only such dates need the careful conversions above.
create function private.is_irregular_day(p_date date, p_timezone text)
returns boolean
language plpgsql
stable
parallel safe
security invoker
set search_path = ''
as $$
declare
    v_before_day timestamptz := (p_date::timestamp at time zone p_timezone) - interval '3 hours';
    v_after_day timestamptz := ((p_date + 1)::timestamp at time zone p_timezone) + interval '3 hours';
begin
    return (v_before_day at time zone p_timezone) - (v_before_day at time zone 'UTC')
    <> (v_after_day at time zone p_timezone) - (v_after_day at time zone 'UTC');
end
$$;

comment on function private.is_irregular_day(date, text) is
'Whether the zone''s UTC offset changes within three hours of the local date (a DST change day).';

-- Hours as instants ----------------------------------------------------------------

-- A local wall-clock bound (a window's start or end, a day's midnight) as an instant, by
-- private.window_bound's rule. p_irregular is private.is_irregular_day of the bound's date:
-- on a day without an offset change plain `at time zone` gives the same and costs no call.
-- SQL without SET clauses, so it is inlined into the queries that call it.
create function private.local_bound(p_local timestamp, p_timezone text, p_irregular boolean)
returns timestamptz
language sql
stable
parallel safe
security invoker
as $$
    select case when p_irregular then private.window_bound(p_local, p_timezone) else p_local at time zone p_timezone end
$$;

comment on function private.local_bound(timestamp, text, boolean) is
'Instant of a local bound by private.window_bound''s rule; p_irregular (private.is_irregular_day of its date) false '
'takes the plain conversion, which is the same there. Inlinable.';

-- The hours rule, its one home: the open windows of the local dates p_from..p_to in zone
-- p_timezone. A practitioner counts when active, of the workspace, performing
-- p_booking_type_id (any type when null) and p_practitioner_id when given. A date with
-- override rows has those windows (a row without times is a day off), else the weekly rules
-- of its ISO weekday; a workspace closure removes the date for everyone. Bounds become
-- instants by private.local_bound (first occurrence; in a gap the offset from before it).
-- irregular, local_start and local_end let the slot grid step on local time on DST days.
-- SQL without SET clauses: inlined into its callers' queries (no call, planned with them).
create function private.open_windows(
    p_workspace_id uuid,
    p_timezone text,
    p_booking_type_id uuid,
    p_practitioner_id uuid,
    p_from date,
    p_to date
)
returns table (
    practitioner_id uuid,
    local_date date,
    irregular boolean,
    local_start timestamp,
    local_end timestamp,
    opens timestamptz,
    closes timestamptz
)
language sql
stable
security invoker
as $$
    with
    days as (
        select
            d::date as local_date,
            private.is_irregular_day(d::date, p_timezone) as irregular
        from pg_catalog.generate_series(p_from::timestamp, p_to::timestamp, interval '1 day') as d
        where not exists (
            select 1 from public.workspace_closures as c
            where c.workspace_id = p_workspace_id and c.closed_on = d::date
        )
    ),
    performers as (
        select p.id
        from public.practitioners as p
        where
            p.workspace_id = p_workspace_id
            and p.active
            and (p_practitioner_id is null or p.id = p_practitioner_id)
            and (
                p_booking_type_id is null
                or exists (
                    select 1 from public.booking_type_practitioners as btp
                    where btp.booking_type_id = p_booking_type_id and btp.practitioner_id = p.id
                )
            )
    ),
    local_windows as (
        select pf.id as practitioner_id, days.local_date, days.irregular, o.start_time, o.end_time
        from performers as pf
        cross join days
        inner join public.availability_overrides as o
            on pf.id = o.practitioner_id and days.local_date = o.override_date
        where o.start_time is not null
        union all
        select pf.id as practitioner_id, days.local_date, days.irregular, r.start_time, r.end_time
        from performers as pf
        cross join days
        inner join public.availability_rules as r
            on pf.id = r.practitioner_id and r.weekday = extract(isodow from days.local_date)
        where not exists (
            select 1 from public.availability_overrides as o
            where o.practitioner_id = pf.id and o.override_date = days.local_date
        )
    )
    select
        lw.practitioner_id,
        lw.local_date,
        lw.irregular,
        lw.local_date + lw.start_time,
        lw.local_date + lw.end_time,
        private.local_bound(lw.local_date + lw.start_time, p_timezone, lw.irregular),
        private.local_bound(lw.local_date + lw.end_time, p_timezone, lw.irregular)
    from local_windows as lw
$$;

comment on function private.open_windows(uuid, text, uuid, uuid, date, date) is
'The hours rule (its one home): open windows of the active practitioners (of a booking type, or one practitioner, '
'when given) for local dates p_from..p_to, as local times and instants (DST: private.local_bound). Overrides replace '
'the weekday''s rules, closures remove the day. Inlinable; docs/booking.md.';

-- Each active practitioner's open windows for the local dates p_from..p_to in the
-- workspace's zone (private.open_windows), ordered.
create function private.practitioner_windows(p_workspace_id uuid, p_from date, p_to date)
returns table (practitioner_id uuid, local_date date, starts_at timestamptz, ends_at timestamptz)
language sql
stable
security invoker
set search_path = ''
as $$
    select w.practitioner_id, w.local_date, w.opens as starts_at, w.closes as ends_at
    from public.workspaces as ws
    cross join lateral private.open_windows(ws.id, ws.timezone, null, null, p_from, p_to) as w
    where ws.id = p_workspace_id
    order by w.practitioner_id, w.opens;
$$;

comment on function private.practitioner_windows(uuid, date, date) is
'Open windows of each active practitioner for local dates p_from..p_to as instants: private.open_windows in the '
'workspace''s zone, the hours of the slot search.';

create function private.activation_checklist(p_workspace_id uuid)
returns table (code text, done boolean, description text)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
    return query
    select
        'email_sender'::text,
        exists (
            select 1 from public.communication_settings as s
            where s.workspace_id = p_workspace_id and s.email_enabled and s.sender_email is not null
        ),
        'Turn the email channel on and set a sender email address.'::text
    union all
    select
        'sms_sender'::text,
        not exists (
            select 1 from public.communication_settings as s
            where s.workspace_id = p_workspace_id and s.sms_enabled and s.sms_from_number is null
        ),
        'The SMS channel is on: set its sender number, or turn SMS off.'::text
    union all
    select
        'bookable_type'::text,
        exists (
            select 1
            from public.booking_types as bt
            inner join public.booking_type_practitioners as btp
                on btp.workspace_id = bt.workspace_id and btp.booking_type_id = bt.id
            inner join public.practitioners as p
                on p.workspace_id = btp.workspace_id and p.id = btp.practitioner_id
            where
                bt.workspace_id = p_workspace_id
                and bt.active
                and p.active
                and exists (select 1 from public.availability_rules as r where r.practitioner_id = p.id)
        ),
        'Create an active booking type performed by a practitioner who has weekly hours.'::text
    union all
    select
        'practitioner_names'::text,
        not exists (
            select 1
            from public.booking_types as bt
            inner join public.booking_type_practitioners as btp
                on btp.workspace_id = bt.workspace_id and btp.booking_type_id = bt.id
            inner join public.practitioners as p
                on p.workspace_id = btp.workspace_id and p.id = btp.practitioner_id
            inner join public.profiles as pr on pr.id = p.user_id
            where bt.workspace_id = p_workspace_id and bt.active and p.active and pr.full_name = ''
        ),
        'Every practitioner who performs an active booking type needs a full name (the public page shows it).'::text;
end
$$;

comment on function private.activation_checklist(uuid) is
'What a workspace needs before it can be activated: (code, done, description) for email_sender, sms_sender, '
'bookable_type and practitioner_names.';

-- The JSON both RPCs return: status, ready, the checklist and the codes still missing.
create function private.activation_report(p_workspace_id uuid)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    v_checklist jsonb;
    v_missing jsonb;
begin
    select
        coalesce(
            jsonb_agg(jsonb_build_object('code', c.code, 'done', c.done, 'description', c.description)),
            '[]'::jsonb
        ),
        coalesce(jsonb_agg(c.code) filter (where not c.done), '[]'::jsonb)
    into v_checklist, v_missing
    from private.activation_checklist(p_workspace_id) as c;
    return jsonb_build_object(
        'workspace_id', p_workspace_id,
        'status', (select w.status from public.workspaces as w where w.id = p_workspace_id),
        'ready', jsonb_array_length(v_missing) = 0,
        'checklist', v_checklist,
        'missing', v_missing
    );
end
$$;

comment on function private.activation_report(uuid) is
'{workspace_id, status, ready, checklist: [{code, done, description}], missing: [code]} for a workspace.';

create function public.workspace_activation_status(p_workspace_id uuid)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
    perform private.require_role(p_workspace_id, 'staff');
    return private.activation_report(p_workspace_id);
end
$$;

comment on function public.workspace_activation_status(uuid) is
'The activation checklist for the onboarding UI: {workspace_id, status, ready, checklist: [{code, done, '
'description}], missing: [code]}; codes email_sender, sms_sender, bookable_type, practitioner_names. Members '
'only. Errors: not_authenticated, not_found.';

create function public.activate_workspace(p_workspace_id uuid)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_report jsonb;
begin
    perform private.require_role(p_workspace_id, 'owner');
    -- One activation or suspension at a time per workspace.
    perform 1 from public.workspaces as w where w.id = p_workspace_id for no key update;
    v_report := private.activation_report(p_workspace_id);
    if (v_report ->> 'ready')::boolean and v_report ->> 'status' <> 'active' then
        update public.workspaces set status = 'active' where id = p_workspace_id;
        v_report := v_report || jsonb_build_object('status', 'active');
    end if;
    return v_report || jsonb_build_object('activated', v_report ->> 'status' = 'active');
end
$$;

comment on function public.activate_workspace(uuid) is
'Activates a draft or suspended workspace when its checklist is complete; otherwise changes nothing and returns '
'what is missing. Returns the workspace_activation_status report plus activated (whether the workspace is now '
'active). An active workspace stays active. Owners only. Errors: not_authenticated, not_found, forbidden.';

create function public.suspend_workspace(p_workspace_id uuid)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
    perform private.require_role(p_workspace_id, 'owner');
    update public.workspaces set status = 'suspended' where id = p_workspace_id and status = 'active';
    return private.activation_report(p_workspace_id);
end
$$;

comment on function public.suspend_workspace(uuid) is
'Takes an active workspace off public booking (status suspended) until activate_workspace runs again; a draft '
'stays a draft. Returns the workspace_activation_status report. Owners only. Errors: not_authenticated, '
'not_found, forbidden.';

create function public.get_booking_page(p_workspace_slug text)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    v_workspace public.workspaces;
begin
    select w.* into v_workspace
    from public.workspaces as w
    where w.slug = pg_catalog.lower(pg_catalog.btrim(p_workspace_slug)) and w.status = 'active';
    if not found then
        -- Unknown, draft and suspended workspaces look the same.
        perform private.raise_error('not_found', 'No bookable workspace has this address.');
    end if;
    return jsonb_build_object(
        'workspace', jsonb_build_object(
            'name', v_workspace.name,
            'slug', v_workspace.slug,
            'timezone', v_workspace.timezone
        ),
        'booking_types', coalesce((
            select jsonb_agg(
                jsonb_build_object(
                    'id', bt.id,
                    'name', bt.name,
                    'description', bt.description,
                    'duration_minutes', bt.duration_minutes,
                    'location', bt.location,
                    'practitioners', performers.list
                )
                order by bt.name, bt.id
            )
            from public.booking_types as bt
            cross join lateral (
                select jsonb_agg(
                    jsonb_build_object('id', p.id, 'display_name', pr.full_name)
                    order by pr.full_name, p.id
                ) as list
                from public.booking_type_practitioners as btp
                inner join public.practitioners as p
                    on p.workspace_id = btp.workspace_id and p.id = btp.practitioner_id
                inner join public.profiles as pr on pr.id = p.user_id
                where btp.workspace_id = bt.workspace_id and btp.booking_type_id = bt.id and p.active
            ) as performers
            where bt.workspace_id = v_workspace.id and bt.active and performers.list is not null
        ), '[]'::jsonb)
    );
end
$$;

comment on function public.get_booking_page(text) is
'The public booking page of an active workspace: {workspace: {name, slug, timezone}, booking_types: [{id, name, '
'description, duration_minutes, location, practitioners: [{id, display_name}]}]}. Lists active booking types that '
'an active practitioner performs; a practitioner shows only their practitioner id and profile full name. '
'Errors: not_found (unknown, draft or suspended workspace alike).';

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

-- Triggers ------------------------------------------------------------------------------

create trigger communication_settings_touch_updated_at
before update on public.communication_settings
for each row execute function private.touch_updated_at();

create trigger communication_settings_validate
before insert or update on public.communication_settings
for each row execute function private.validate_communication_settings();

create trigger workspaces_create_communication_defaults
after insert on public.workspaces
for each row execute function private.create_communication_defaults_for_new_workspace();

create trigger message_templates_touch_updated_at
before update on public.message_templates
for each row execute function private.touch_updated_at();

create trigger message_templates_validate
before insert or update on public.message_templates
for each row execute function private.validate_message_template();

create trigger intake_forms_touch_updated_at
before update on public.intake_forms
for each row execute function private.touch_updated_at();

create trigger intake_forms_validate
before insert or update of name, description, fields on public.intake_forms
for each row execute function private.validate_intake_form();

create trigger inventory_items_touch_updated_at
before update on public.inventory_items
for each row execute function private.touch_updated_at();

create trigger inventory_items_validate
before insert or update on public.inventory_items
for each row execute function private.validate_inventory_item();

create trigger booking_types_touch_updated_at
before update on public.booking_types
for each row execute function private.touch_updated_at();

create trigger booking_types_validate
before insert or update on public.booking_types
for each row execute function private.validate_booking_type();

create trigger practitioners_touch_updated_at
before update on public.practitioners
for each row execute function private.touch_updated_at();

create trigger workspace_members_make_creator_a_practitioner
after insert on public.workspace_members
for each row execute function private.make_creator_a_practitioner();

create trigger availability_rules_touch_updated_at
before update on public.availability_rules
for each row execute function private.touch_updated_at();

create trigger availability_rules_validate
before insert or update on public.availability_rules
for each row execute function private.validate_availability_rule();

create trigger availability_overrides_touch_updated_at
before update on public.availability_overrides
for each row execute function private.touch_updated_at();

create trigger availability_overrides_validate
before insert or update on public.availability_overrides
for each row execute function private.validate_availability_override();

create trigger workspace_closures_touch_updated_at
before update on public.workspace_closures
for each row execute function private.touch_updated_at();

create trigger workspace_closures_validate
before insert or update on public.workspace_closures
for each row execute function private.validate_workspace_closure();

create trigger booking_type_inventory_usage_touch_updated_at
before update on public.booking_type_inventory_usage
for each row execute function private.touch_updated_at();

create trigger booking_type_inventory_usage_validate
before insert or update on public.booking_type_inventory_usage
for each row execute function private.validate_booking_type_inventory_usage();

-- Row level security, policies and Realtime ---------------------------------------------

alter table public.communication_settings enable row level security;

create policy "members read their workspaces' communication settings"
on public.communication_settings for select to authenticated
using (workspace_id = any((select private.member_workspace_ids())::uuid[]));

create policy "owners update their workspaces' communication settings"
on public.communication_settings for update to authenticated
using (workspace_id = any((select private.owner_workspace_ids())::uuid[]))
with check (workspace_id = any((select private.owner_workspace_ids())::uuid[]));

-- The one-per-kind unique index leads with workspace_id: it serves the policies too.
alter table public.message_templates enable row level security;

create policy "members read their workspaces' message templates"
on public.message_templates for select to authenticated
using (workspace_id = any((select private.member_workspace_ids())::uuid[]));

create policy "owners update their workspaces' message templates"
on public.message_templates for update to authenticated
using (workspace_id = any((select private.owner_workspace_ids())::uuid[]))
with check (workspace_id = any((select private.owner_workspace_ids())::uuid[]));

alter table public.intake_forms enable row level security;

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

alter table public.inventory_items enable row level security;

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

alter table public.booking_types enable row level security;

create policy "members read their workspaces' booking types"
on public.booking_types for select to authenticated
using (workspace_id = any((select private.member_workspace_ids())::uuid[]));

create policy "owners create booking types"
on public.booking_types for insert to authenticated
with check (workspace_id = any((select private.owner_workspace_ids())::uuid[]));

create policy "owners update booking types"
on public.booking_types for update to authenticated
using (workspace_id = any((select private.owner_workspace_ids())::uuid[]))
with check (workspace_id = any((select private.owner_workspace_ids())::uuid[]));

create policy "owners delete booking types"
on public.booking_types for delete to authenticated
using (workspace_id = any((select private.owner_workspace_ids())::uuid[]));

alter table public.practitioners enable row level security;

create policy "members read their workspaces' practitioners"
on public.practitioners for select to authenticated
using (workspace_id = any((select private.member_workspace_ids())::uuid[]));

create policy "owners mark members as practitioners"
on public.practitioners for insert to authenticated
with check (workspace_id = any((select private.owner_workspace_ids())::uuid[]));

create policy "owners update practitioners"
on public.practitioners for update to authenticated
using (workspace_id = any((select private.owner_workspace_ids())::uuid[]))
with check (workspace_id = any((select private.owner_workspace_ids())::uuid[]));

create policy "owners remove practitioners"
on public.practitioners for delete to authenticated
using (workspace_id = any((select private.owner_workspace_ids())::uuid[]));

alter table public.booking_type_practitioners enable row level security;

create policy "members read who performs their workspaces' booking types"
on public.booking_type_practitioners for select to authenticated
using (workspace_id = any((select private.member_workspace_ids())::uuid[]));

create policy "owners assign practitioners to booking types"
on public.booking_type_practitioners for insert to authenticated
with check (workspace_id = any((select private.owner_workspace_ids())::uuid[]));

create policy "owners unassign practitioners from booking types"
on public.booking_type_practitioners for delete to authenticated
using (workspace_id = any((select private.owner_workspace_ids())::uuid[]));

alter table public.availability_rules enable row level security;

create policy "members read their workspaces' weekly hours"
on public.availability_rules for select to authenticated
using (workspace_id = any((select private.member_workspace_ids())::uuid[]));

create policy "owners and the practitioner add weekly hours"
on public.availability_rules for insert to authenticated
with check (
    workspace_id = any((select private.owner_workspace_ids())::uuid[])
    or practitioner_id = any((select private.own_practitioner_ids())::uuid[])
);

create policy "owners and the practitioner change weekly hours"
on public.availability_rules for update to authenticated
using (
    workspace_id = any((select private.owner_workspace_ids())::uuid[])
    or practitioner_id = any((select private.own_practitioner_ids())::uuid[])
)
with check (
    workspace_id = any((select private.owner_workspace_ids())::uuid[])
    or practitioner_id = any((select private.own_practitioner_ids())::uuid[])
);

create policy "owners and the practitioner remove weekly hours"
on public.availability_rules for delete to authenticated
using (
    workspace_id = any((select private.owner_workspace_ids())::uuid[])
    or practitioner_id = any((select private.own_practitioner_ids())::uuid[])
);

alter table public.availability_overrides enable row level security;

create policy "members read their workspaces' date overrides"
on public.availability_overrides for select to authenticated
using (workspace_id = any((select private.member_workspace_ids())::uuid[]));

create policy "owners and the practitioner add date overrides"
on public.availability_overrides for insert to authenticated
with check (
    workspace_id = any((select private.owner_workspace_ids())::uuid[])
    or practitioner_id = any((select private.own_practitioner_ids())::uuid[])
);

create policy "owners and the practitioner change date overrides"
on public.availability_overrides for update to authenticated
using (
    workspace_id = any((select private.owner_workspace_ids())::uuid[])
    or practitioner_id = any((select private.own_practitioner_ids())::uuid[])
)
with check (
    workspace_id = any((select private.owner_workspace_ids())::uuid[])
    or practitioner_id = any((select private.own_practitioner_ids())::uuid[])
);

create policy "owners and the practitioner remove date overrides"
on public.availability_overrides for delete to authenticated
using (
    workspace_id = any((select private.owner_workspace_ids())::uuid[])
    or practitioner_id = any((select private.own_practitioner_ids())::uuid[])
);

alter table public.workspace_closures enable row level security;

create policy "members read their workspaces' closures"
on public.workspace_closures for select to authenticated
using (workspace_id = any((select private.member_workspace_ids())::uuid[]));

create policy "owners add closures"
on public.workspace_closures for insert to authenticated
with check (workspace_id = any((select private.owner_workspace_ids())::uuid[]));

create policy "owners change closures"
on public.workspace_closures for update to authenticated
using (workspace_id = any((select private.owner_workspace_ids())::uuid[]))
with check (workspace_id = any((select private.owner_workspace_ids())::uuid[]));

create policy "owners remove closures"
on public.workspace_closures for delete to authenticated
using (workspace_id = any((select private.owner_workspace_ids())::uuid[]));

alter table public.booking_type_forms enable row level security;

create policy "members read which forms their workspaces' booking types send"
on public.booking_type_forms for select to authenticated
using (workspace_id = any((select private.member_workspace_ids())::uuid[]));

create policy "owners attach forms to booking types"
on public.booking_type_forms for insert to authenticated
with check (workspace_id = any((select private.owner_workspace_ids())::uuid[]));

create policy "owners detach forms from booking types"
on public.booking_type_forms for delete to authenticated
using (workspace_id = any((select private.owner_workspace_ids())::uuid[]));

alter table public.booking_type_inventory_usage enable row level security;

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

-- Grants --------------------------------------------------------------------------------

-- Check constraints and validation triggers run with the caller's privileges.
revoke execute on function
private.normalize_phone(text),
private.is_clean_multiline_text(text, integer),
private.clean_multiline_text(text, integer, text)
from public;

grant execute on function
private.normalize_phone(text),
private.is_clean_multiline_text(text, integer),
private.clean_multiline_text(text, integer, text)
to authenticated, service_role;

revoke all on public.communication_settings from anon, authenticated;

grant select on public.communication_settings to authenticated;

grant update (
    email_enabled, sms_enabled, sender_name, sender_email, reply_to_email, sms_from_number
) on public.communication_settings to authenticated;

grant all on public.communication_settings to service_role;

revoke execute on function private.normalize_optional_email(text, text) from public;

grant execute on function private.normalize_optional_email(text, text) to authenticated, service_role;

revoke execute on function
private.create_communication_defaults(uuid),
private.create_communication_defaults_for_new_workspace()
from public;

grant execute on function private.create_communication_defaults(uuid) to service_role;

revoke execute on function private.template_placeholders(text), private.check_placeholders(text, text) from public;

grant execute on function private.template_placeholders(text), private.check_placeholders(text, text)
to authenticated, service_role;

revoke all on public.message_templates from anon, authenticated;

grant select on public.message_templates to authenticated;

grant update (subject, body) on public.message_templates to authenticated;

grant all on public.message_templates to service_role;

revoke execute on function private.default_message_templates() from public;

grant execute on function private.default_message_templates() to service_role;

revoke execute on function private.validate_form_fields(jsonb) from public;

grant execute on function private.validate_form_fields(jsonb) to authenticated, service_role;

revoke all on public.intake_forms from anon, authenticated;

grant select, delete on public.intake_forms to authenticated;

grant insert (workspace_id, name, description, fields, active) on public.intake_forms to authenticated;

grant update (name, description, fields, active) on public.intake_forms to authenticated;

grant all on public.intake_forms to service_role;

revoke all on public.inventory_items from anon, authenticated;

grant select, delete on public.inventory_items to authenticated;

grant insert (workspace_id, name, unit, quantity, low_stock_threshold, active)
on public.inventory_items to authenticated;

grant update (name, unit, quantity, low_stock_threshold, active) on public.inventory_items to authenticated;

grant all on public.inventory_items to service_role;

revoke all on public.booking_types from anon, authenticated;

grant select, delete on public.booking_types to authenticated;

grant insert (
    workspace_id, name, description, duration_minutes, buffer_before_minutes, buffer_after_minutes,
    min_notice_minutes, max_days_ahead, slot_interval_minutes, daily_capacity, location, active
) on public.booking_types to authenticated;

grant update (
    name, description, duration_minutes, buffer_before_minutes, buffer_after_minutes,
    min_notice_minutes, max_days_ahead, slot_interval_minutes, daily_capacity, location, active
) on public.booking_types to authenticated;

grant all on public.booking_types to service_role;

revoke all on public.practitioners from anon, authenticated;

grant select, delete on public.practitioners to authenticated;

grant insert (workspace_id, user_id, active) on public.practitioners to authenticated;

grant update (active) on public.practitioners to authenticated;

grant all on public.practitioners to service_role;

revoke execute on function private.make_creator_a_practitioner() from public;

revoke execute on function private.own_practitioner_ids(), private.lock_practitioner_hours(uuid) from public;

grant execute on function private.own_practitioner_ids(), private.lock_practitioner_hours(uuid)
to authenticated, service_role;

revoke all on public.booking_type_practitioners from anon, authenticated;

grant select, delete on public.booking_type_practitioners to authenticated;

grant insert (workspace_id, booking_type_id, practitioner_id) on public.booking_type_practitioners to authenticated;

grant all on public.booking_type_practitioners to service_role;

revoke all on public.availability_rules from anon, authenticated;

grant select, delete on public.availability_rules to authenticated;

grant insert (workspace_id, practitioner_id, weekday, start_time, end_time)
on public.availability_rules to authenticated;

grant update (weekday, start_time, end_time) on public.availability_rules to authenticated;

grant all on public.availability_rules to service_role;

revoke all on public.availability_overrides from anon, authenticated;

grant select, delete on public.availability_overrides to authenticated;

grant insert (workspace_id, practitioner_id, override_date, start_time, end_time, note)
on public.availability_overrides to authenticated;

grant update (override_date, start_time, end_time, note) on public.availability_overrides to authenticated;

grant all on public.availability_overrides to service_role;

revoke all on public.workspace_closures from anon, authenticated;

grant select, delete on public.workspace_closures to authenticated;

grant insert (workspace_id, closed_on, note) on public.workspace_closures to authenticated;

grant update (closed_on, note) on public.workspace_closures to authenticated;

grant all on public.workspace_closures to service_role;

revoke execute on function
private.first_instant(timestamp, text),
private.window_bound(timestamp, text),
private.is_irregular_day(date, text)
from public;

grant execute on function
private.first_instant(timestamp, text),
private.window_bound(timestamp, text),
private.is_irregular_day(date, text)
to authenticated, service_role;

revoke execute on function
private.local_bound(timestamp, text, boolean),
private.open_windows(uuid, text, uuid, uuid, date, date)
from public;

grant execute on function
private.local_bound(timestamp, text, boolean),
private.open_windows(uuid, text, uuid, uuid, date, date)
to authenticated, service_role;

revoke execute on function private.practitioner_windows(uuid, date, date) from public;

grant execute on function private.practitioner_windows(uuid, date, date) to authenticated, service_role;

revoke execute on function private.activation_checklist(uuid) from public;

grant execute on function private.activation_checklist(uuid) to service_role;

revoke execute on function private.activation_report(uuid) from public;

grant execute on function private.activation_report(uuid) to service_role;

revoke execute on function public.workspace_activation_status(uuid) from public, anon;

grant execute on function public.workspace_activation_status(uuid) to authenticated, service_role;

revoke execute on function public.activate_workspace(uuid) from public, anon;

grant execute on function public.activate_workspace(uuid) to authenticated, service_role;

revoke execute on function public.suspend_workspace(uuid) from public, anon;

grant execute on function public.suspend_workspace(uuid) to authenticated, service_role;

revoke execute on function public.get_booking_page(text) from public;

grant execute on function public.get_booking_page(text) to anon, authenticated, service_role;

revoke all on public.booking_type_forms from anon, authenticated;

grant select, delete on public.booking_type_forms to authenticated;

grant insert (workspace_id, booking_type_id, form_id) on public.booking_type_forms to authenticated;

grant all on public.booking_type_forms to service_role;

revoke all on public.booking_type_inventory_usage from anon, authenticated;

grant select, delete on public.booking_type_inventory_usage to authenticated;

grant insert (workspace_id, booking_type_id, item_id, quantity_per_booking)
on public.booking_type_inventory_usage to authenticated;

grant update (quantity_per_booking) on public.booking_type_inventory_usage to authenticated;

grant all on public.booking_type_inventory_usage to service_role;

-- Data ----------------------------------------------------------------------------------

insert into private.error_codes (code, http_status, description) values
(
    'invalid_phone',
    400,
    'Not an international phone number: "+", country code and number, 7 to 15 digits ("+33 6 12 34 56 78").'
),
('invalid_sender_name', 400, 'A sender name has 1 to 120 characters, at least one visible, and no control characters.'),
(
    'invalid_template_subject',
    400,
    'An email template needs a subject of 1 to 200 characters without control characters; an SMS template has none.'
),
(
    'invalid_template_body',
    400,
    'A body has 1 to 10000 characters (SMS: 1600), one visible, no control characters but line breaks and tabs.'
),
('unknown_placeholder', 400, 'The template uses a placeholder that its kind does not provide.'),
(
    'malformed_placeholder',
    400,
    'A placeholder is written {{name}}: lowercase letters, digits and underscores between double braces.'
),
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
('unknown_field_type', 400, 'A field type is one of text, long_text, choice, checkbox, date, email, phone.'),
('invalid_field_label', 400, 'A field label has 1 to 200 characters, at least one visible, and no control characters.'),
('invalid_field_required', 400, 'A field''s required flag is true or false.'),
('missing_field_options', 400, 'A choice field needs a non-empty array of options (at most 100).'),
(
    'invalid_field_option',
    400,
    'A choice option is a text of 1 to 200 characters, at least one visible, and no control characters.'
),
('duplicate_field_option', 400, 'A choice field lists the same option twice.'),
('unexpected_field_options', 400, 'Only choice fields have options.'),
('invalid_unit', 400, 'A unit has 1 to 40 characters, at least one visible, and no control characters.'),
('invalid_quantity', 400, 'A quantity is a number from 0 to 1000000000.'),
('invalid_threshold', 400, 'A low-stock threshold is a number from 0 to 1000000000.'),
(
    'invalid_description',
    400,
    'A description has at most 2000 characters, one visible, and no control characters but line breaks and tabs.'
),
('invalid_location', 400, 'A location has at most 200 characters, at least one visible, and no control characters.'),
('invalid_duration', 400, 'A duration is a whole number of minutes from 1 to 720.'),
('invalid_buffer', 400, 'A buffer before or after a booking is 0 to 240 minutes.'),
(
    'invalid_booking_window',
    400,
    'Minimum notice is 0 to 43200 minutes, maximum days ahead 1 to 730, and the notice ends before the horizon.'
),
('invalid_slot_interval', 400, 'A slot interval is a whole number of minutes from 1 to 720.'),
('invalid_daily_capacity', 400, 'A daily capacity is empty (no limit) or 1 to 1000 bookings.'),
('invalid_weekday', 400, 'A weekday is an ISO day number: 1 (Monday) to 7 (Sunday).'),
(
    'invalid_time_window',
    400,
    'A window has a start and an end time on the same day, the end after the start (24:00 ends the day).'
),
('invalid_date', 400, 'A date is required.'),
('invalid_note', 400, 'A note has at most 500 characters, at least one visible, and no control characters.'),
('availability_overlap', 409, 'The window overlaps another window of the same practitioner on that day.'),
('invalid_usage_quantity', 400, 'The quantity used per booking is a number above 0, at most 1000000.');
