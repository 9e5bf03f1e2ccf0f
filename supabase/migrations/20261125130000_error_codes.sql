-- Error codes: one registry of the stable codes RPCs and triggers raise, and the helper that raises them.
--
-- Convention: MESSAGE is the stable code a frontend switches on (error.message in
-- supabase-js), DETAIL says it for humans, SQLSTATE is 'PT' || http_status, which
-- PostgREST answers with that HTTP status. docs/errors.md lists the same rows
-- (a test keeps the two equal).

create table private.error_codes (
    code text primary key check (code ~ '^[a-z][a-z0-9_]*$'),
    http_status integer not null check (http_status between 400 and 499),
    description text not null
);

comment on table private.error_codes is
'Registry of stable error codes: what private.raise_error raises and docs/errors.md lists.';

revoke all on private.error_codes from public, anon, authenticated;
-- Reached only through security definer functions; RLS with no policy is a second lock.
alter table private.error_codes enable row level security;
grant select on private.error_codes to service_role;

insert into private.error_codes (code, http_status, description) values
('not_authenticated', 401, 'The request carries no signed-in user.'),
('forbidden', 403, 'The caller''s role in this workspace does not allow this.'),
('not_found', 404, 'No such record, or it is not visible to the caller.'),
('invalid_name', 400, 'A name must have 1 to 120 characters.'),
(
    'invalid_slug',
    400,
    'A slug has 3 to 63 lowercase letters, digits or inner hyphens (for example "north-clinic").'
),
('slug_taken', 409, 'Another workspace already uses this slug.'),
('invalid_timezone', 400, 'Not an IANA time zone name known to the database (for example "Europe/Paris").'),
('invalid_email', 400, 'Not a valid email address.'),
('invalid_role', 400, 'A role is either owner or staff.'),
('invalid_expiry', 400, 'An invitation is valid for 1 to 30 days.'),
('already_member', 409, 'That person is already a member of this workspace.'),
('invitation_not_found', 404, 'No invitation matches this token.'),
('invitation_expired', 410, 'The invitation has expired; ask for a new one.'),
('invitation_revoked', 410, 'The invitation was revoked by an owner.'),
('invitation_used', 409, 'The invitation was already accepted.'),
('invitation_wrong_user', 403, 'The invitation was sent to a different email address.'),
('last_owner', 409, 'A workspace must keep at least one owner.');

create function private.raise_error(p_code text, p_detail text default null)
returns void
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    v_error private.error_codes;
begin
    select e.* into v_error from private.error_codes as e where e.code = p_code;
    if not found then
        raise exception 'unknown error code: %', p_code using errcode = 'XX000';
    end if;
    raise exception using
        errcode = 'PT' || v_error.http_status::text,
        message = v_error.code,
        detail = coalesce(p_detail, v_error.description);
end
$$;

comment on function private.raise_error(text, text) is
'Raises a registered error: message = stable code, sqlstate = PT<http status>, detail = description.';

revoke execute on function private.raise_error(text, text) from public;
grant execute on function private.raise_error(text, text) to authenticated, service_role;
