-- Form submissions: an intake form sent for a booking, filled in by the customer through a
-- one-time link (get_form / submit_form, anon), overdue after 48 hours (hourly sweep).

insert into private.error_codes (code, http_status, description) values
('form_not_found', 404, 'No form to fill matches this link.'),
('form_already_submitted', 409, 'This form was already filled in; it cannot be changed.'),
('invalid_answers', 400, 'Answers are a JSON object of field keys to values, at most 100000 characters in all.'),
('unknown_answer_field', 400, 'An answer names a field the form does not have.'),
('missing_required_answer', 400, 'A required field of the form has no answer.'),
(
    'invalid_answer',
    400,
    'An answer has the wrong type for its field (text for text fields, true/false for a checkbox) or is too long.'
),
('invalid_answer_choice', 400, 'The answer to a choice field is not one of its options.'),
('invalid_answer_date', 400, 'The answer to a date field is not a date written YYYY-MM-DD.');

-- Settings of the deployment (not of a workspace) -------------------------------------------

create table private.app_settings (
    key text primary key check (key ~ '^[a-z][a-z0-9_]*$'),  -- noqa: RF04
    value text not null,  -- noqa: RF04
    description text not null
);

comment on table private.app_settings is
'Settings of the deployment that SQL needs (not per workspace); ops change them with an update as postgres.';

revoke all on private.app_settings from public, anon, authenticated;
alter table private.app_settings enable row level security;
grant select on private.app_settings to service_role;

insert into private.app_settings (key, value, description) values
(
    'public_base_url',
    'http://localhost:3000',
    'Where the frontend is served: links in messages are this plus a path (/forms/<token>, /manage/<token>).'
)
on conflict (key) do nothing;

create function private.public_url(p_path text)
returns text
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
    return (
        select pg_catalog.rtrim(s.value, '/') || p_path
        from private.app_settings as s
        where s.key = 'public_base_url'
    );
end
$$;

comment on function private.public_url(text) is
'A link to the frontend: private.app_settings public_base_url (without trailing slash) followed by p_path.';

revoke execute on function private.public_url(text) from public;
grant execute on function private.public_url(text) to service_role;

-- Submissions -------------------------------------------------------------------------------

-- Target of the composite foreign key that keeps a submission in its booking's workspace.
alter table public.bookings add constraint bookings_workspace_id_id_key unique (workspace_id, id);

create table public.form_submissions (
    id uuid primary key default gen_random_uuid(),
    workspace_id uuid not null references public.workspaces (id) on delete cascade,
    form_id uuid not null,
    booking_id uuid not null,
    contact_id uuid not null,
    token_hash bytea not null,
    status text not null default 'pending' check (status in ('pending', 'completed', 'overdue')),
    sent_at timestamptz not null default now(),
    overdue_at timestamptz,
    completed_at timestamptz,
    answers jsonb,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint form_submissions_token_hash_key unique (token_hash),
    constraint form_submissions_one_per_booking_and_form unique (booking_id, form_id),
    constraint form_submissions_form_fkey foreign key (workspace_id, form_id)
    references public.intake_forms (workspace_id, id),
    constraint form_submissions_booking_fkey foreign key (workspace_id, booking_id)
    references public.bookings (workspace_id, id) on delete cascade,
    constraint form_submissions_contact_fkey foreign key (workspace_id, contact_id)
    references public.contacts (workspace_id, id) on delete cascade,
    constraint form_submissions_completed_have_answers check (
        (status = 'completed') = (completed_at is not null and answers is not null)
    ),
    constraint form_submissions_answers_object check (answers is null or jsonb_typeof(answers) = 'object')  -- noqa: RF04
);

comment on table public.form_submissions is
'An intake form sent to a contact for a booking: pending until the contact fills it in through its link, overdue after 48 hours (it can still be completed).';
comment on column public.form_submissions.token_hash is 'sha256 of the fill-in token in the link; the token itself is never stored.';
comment on column public.form_submissions.sent_at is 'When the request was queued; overdue counts from here.';
comment on column public.form_submissions.overdue_at is 'When the hourly sweep marked it overdue.';
comment on column public.form_submissions.answers is 'Field key -> answer, validated against the form''s fields when submitted.';

create index form_submissions_workspace_id_created_at_idx on public.form_submissions (workspace_id, created_at desc);
create index form_submissions_form_id_idx on public.form_submissions (form_id);
create index form_submissions_contact_id_idx on public.form_submissions (contact_id);
-- The overdue sweep reads only pending submissions, oldest first.
create index form_submissions_pending_sent_at_idx on public.form_submissions (sent_at) where (status = 'pending');

alter table public.form_submissions enable row level security;

-- Members read (review); the contact writes through submit_form, the database the rest.
revoke all on public.form_submissions from anon, authenticated;
grant select on public.form_submissions to authenticated;
grant all on public.form_submissions to service_role;

create trigger form_submissions_touch_updated_at
before update on public.form_submissions
for each row execute function private.touch_updated_at();

create policy "members read their workspaces' form submissions"
on public.form_submissions for select to authenticated
using (workspace_id = any((select private.member_workspace_ids())::uuid[]));

-- Answers -----------------------------------------------------------------------------------

-- The answers, normalised (trimmed texts, E.164 phones, lower-case emails; blank optional
-- answers left out), or the code of the first problem, naming the field in the detail.
create function private.validate_form_answers(p_fields jsonb, p_answers jsonb)
returns jsonb
language plpgsql
immutable
security invoker
set search_path = ''
as $$
declare
    v_field jsonb;
    v_key text;
    v_type text;
    v_answer jsonb;
    v_text text;
    v_result jsonb := '{}'::jsonb;
    v_date date;
begin
    if
        p_answers is null
        or pg_catalog.jsonb_typeof(p_answers) <> 'object'
        or char_length(p_answers::text) > 100000
    then
        perform private.raise_error('invalid_answers');
    end if;
    select k.name into v_key
    from pg_catalog.jsonb_object_keys(p_answers) as k (name)
    where not exists (
        select 1 from pg_catalog.jsonb_array_elements(p_fields) as f (field) where f.field ->> 'key' = k.name
    )
    limit 1;
    if v_key is not null then
        perform private.raise_error(
            'unknown_answer_field', format('The form has no field "%s".', left(v_key, 100))
        );
    end if;
    for v_field in select f.value from pg_catalog.jsonb_array_elements(p_fields) as f loop
        v_key := v_field ->> 'key';
        v_type := v_field ->> 'type';
        v_answer := p_answers -> v_key;
        -- Blank text counts as no answer.
        if pg_catalog.jsonb_typeof(v_answer) = 'null' then
            v_answer := null;
        elsif
            pg_catalog.jsonb_typeof(v_answer) = 'string' and pg_catalog.btrim(v_answer #>> '{}') = ''
        then
            v_answer := null;
        end if;
        if v_answer is null then
            if (v_field ->> 'required')::boolean then
                perform private.raise_error(
                    'missing_required_answer', format('"%s" needs an answer.', v_field ->> 'label')
                );
            end if;
            continue;
        end if;
        if v_type = 'checkbox' then
            if pg_catalog.jsonb_typeof(v_answer) <> 'boolean' then
                perform private.raise_error(
                    'invalid_answer', format('"%s" is answered true or false.', v_field ->> 'label')
                );
            end if;
            if (v_field ->> 'required')::boolean and not (v_answer)::boolean then
                perform private.raise_error(
                    'missing_required_answer', format('"%s" must be ticked.', v_field ->> 'label')
                );
            end if;
            v_result := v_result || pg_catalog.jsonb_build_object(v_key, v_answer);
            continue;
        end if;
        if pg_catalog.jsonb_typeof(v_answer) <> 'string' then
            perform private.raise_error('invalid_answer', format('"%s" is answered with text.', v_field ->> 'label'));
        end if;
        v_text := v_answer #>> '{}';
        if v_type = 'text' then
            if not private.is_clean_text(pg_catalog.btrim(v_text), 2000) then
                perform private.raise_error(
                    'invalid_answer',
                    format('"%s" takes one line of at most 2000 characters.', v_field ->> 'label')
                );
            end if;
            v_text := pg_catalog.btrim(v_text);
        elsif v_type = 'long_text' then
            v_text := pg_catalog.btrim(pg_catalog.replace(v_text, E'\r\n', E'\n'));
            if not private.is_clean_multiline_text(v_text, 10000) then
                perform private.raise_error(
                    'invalid_answer', format('"%s" takes at most 10000 characters.', v_field ->> 'label')
                );
            end if;
        elsif v_type = 'choice' then
            if not (v_field -> 'options') ? v_text then
                perform private.raise_error(
                    'invalid_answer_choice', format('"%s" is not an option of "%s".', left(v_text, 200), v_field ->> 'label')
                );
            end if;
        elsif v_type = 'date' then
            if v_text !~ '^\d{4}-\d{2}-\d{2}$' then
                perform private.raise_error('invalid_answer_date', format('"%s" needs a date.', v_field ->> 'label'));
            end if;
            begin
                v_date := v_text::date;
            exception when others then
                perform private.raise_error(
                    'invalid_answer_date', format('"%s" needs a date that exists.', v_field ->> 'label')
                );
            end;
            v_text := v_date::text;
        elsif v_type = 'email' then
            v_text := private.normalize_email(v_text);
            if v_text is null then
                perform private.raise_error(
                    'invalid_email', format('"%s" needs an email address.', v_field ->> 'label')
                );
            end if;
        elsif v_type = 'phone' then
            v_text := private.normalize_phone(v_text);
            if v_text is null then
                perform private.raise_error(
                    'invalid_phone', format('"%s" needs an international phone number.', v_field ->> 'label')
                );
            end if;
        end if;
        v_result := v_result || pg_catalog.jsonb_build_object(v_key, v_text);
    end loop;
    return v_result;
end
$$;

comment on function private.validate_form_answers(jsonb, jsonb) is
'Answers checked against a form''s fields and normalised, or the first problem: invalid_answers, unknown_answer_field, missing_required_answer, invalid_answer, invalid_answer_choice, invalid_answer_date, invalid_email, invalid_phone.';

revoke execute on function private.validate_form_answers(jsonb, jsonb) from public;
grant execute on function private.validate_form_answers(jsonb, jsonb) to service_role;

-- RPCs (anon: the customer holds only the link) ---------------------------------------------

create function public.get_form(p_token text)
returns table (
    status text,
    form_name text,
    form_description text,
    fields jsonb,
    workspace_name text,
    contact_name text,
    booking_starts_at timestamptz,
    workspace_timezone text
)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
    return query
    select
        s.status, f.name, f.description, f.fields, w.name, c.name, b.starts_at, w.timezone
    from public.form_submissions as s
    inner join public.intake_forms as f on s.form_id = f.id
    inner join public.workspaces as w on s.workspace_id = w.id
    inner join public.contacts as c on s.contact_id = c.id
    inner join public.bookings as b on s.booking_id = b.id
    where s.token_hash = private.token_hash(coalesce(p_token, ''));
    if not found then
        perform private.raise_error('form_not_found');
    end if;
end
$$;

comment on function public.get_form(text) is
'Anon, by the link''s token: the form to fill (name, description, fields), whose it is and for which visit, and its status (completed: already filled in; answers are never returned). Errors: form_not_found.';

create function public.submit_form(p_token text, p_answers jsonb)
returns table (status text, completed_at timestamptz)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_submission public.form_submissions;
    v_answers jsonb;
begin
    select s.* into v_submission
    from public.form_submissions as s
    where s.token_hash = private.token_hash(coalesce(p_token, ''))
    for update;
    if not found then
        perform private.raise_error('form_not_found');
    end if;
    if v_submission.status = 'completed' then
        perform private.raise_error('form_already_submitted');
    end if;
    v_answers := private.validate_form_answers(
        (select f.fields from public.intake_forms as f where f.id = v_submission.form_id), p_answers
    );
    update public.form_submissions as s
    set status = 'completed', completed_at = now(), answers = v_answers
    where s.id = v_submission.id;
    perform private.resolve_open_alert(
        v_submission.workspace_id, 'form_overdue', 'form_submission', v_submission.id
    );
    return query select 'completed'::text, now();
end
$$;

comment on function public.submit_form(text, jsonb) is
'Anon, by the link''s token: completes the form once with answers checked against its fields (an overdue form can still be completed, which resolves its alert). Errors: form_not_found, form_already_submitted, invalid_answers, unknown_answer_field, missing_required_answer, invalid_answer, invalid_answer_choice, invalid_answer_date, invalid_email, invalid_phone.';

revoke execute on function public.get_form(text), public.submit_form(text, jsonb) from public;
grant execute on function public.get_form(text), public.submit_form(text, jsonb) to anon, authenticated, service_role;

-- Overdue sweep (hourly) --------------------------------------------------------------------

create function private.mark_overdue_forms()
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_submission record;
    v_count integer := 0;
begin
    -- A concurrent run waits on these rows and then finds them no longer pending.
    for v_submission in
        with overdue as (
            update public.form_submissions as s
            set status = 'overdue', overdue_at = now()
            where s.status = 'pending' and s.sent_at < now() - interval '48 hours'
            returning s.id, s.workspace_id, s.form_id, s.contact_id
        )

        select o.id, o.workspace_id, f.name as form_name, c.name as contact_name
        from overdue as o
        inner join public.intake_forms as f on o.form_id = f.id
        inner join public.contacts as c on o.contact_id = c.id
    loop
        perform private.raise_alert(
            v_submission.workspace_id, 'form_overdue', 'form_submission', v_submission.id,
            left(format('%s has not filled in %s (sent over 48 hours ago).', v_submission.contact_name, v_submission.form_name), 500)
        );
        v_count := v_count + 1;
    end loop;
    return v_count;
end
$$;

comment on function private.mark_overdue_forms() is
'Hourly (careops_mark_overdue_forms): pending submissions sent more than 48 hours ago become overdue, each with one form_overdue alert; returns how many. Safe to run twice or concurrently.';

revoke execute on function private.mark_overdue_forms() from public;
grant execute on function private.mark_overdue_forms() to service_role;

select cron.unschedule(j.jobid)
from cron.job as j
where j.jobname = 'careops_mark_overdue_forms';
select cron.schedule('careops_mark_overdue_forms', '35 * * * *', 'select private.mark_overdue_forms()');
