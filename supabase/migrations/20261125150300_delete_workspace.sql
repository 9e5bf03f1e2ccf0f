-- delete_workspace: an owner deletes a workspace and everything in it, after
-- which a sole owner can delete their account.

insert into private.error_codes (code, http_status, description) values
(
    'confirmation_mismatch',
    400,
    'To delete a workspace, confirm with its slug exactly as it is.'
);

create function public.delete_workspace(p_workspace_id uuid, p_confirm_slug text)
returns public.workspaces
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_workspace public.workspaces;
begin
    -- Non-members learn nothing and lock nothing.
    perform private.require_role(p_workspace_id, 'owner');
    select w.* into v_workspace from public.workspaces as w where w.id = p_workspace_id for update;
    -- Again under the lock: a demotion that committed while we waited counts.
    perform private.require_role(p_workspace_id, 'owner');
    if p_confirm_slug is null or lower(btrim(p_confirm_slug)) <> v_workspace.slug then
        perform private.raise_error('confirmation_mismatch');
    end if;
    -- Everything that references the workspace goes with it (on delete cascade):
    -- memberships and invitations today, and every workspace-owned table later.
    delete from public.workspaces as w where w.id = p_workspace_id;
    return v_workspace;
end
$$;

comment on function public.delete_workspace(uuid, text) is
'Owners: deletes the workspace and everything in it (memberships, invitations and every row that belongs to it), confirmed by its slug; returns the deleted row. Errors: not_authenticated, not_found, forbidden, confirmation_mismatch.';

revoke execute on function public.delete_workspace(uuid, text) from public, anon;
grant execute on function public.delete_workspace(uuid, text) to authenticated, service_role;
