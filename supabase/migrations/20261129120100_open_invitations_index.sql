-- The dashboard counts a workspace's pending invitations (open and not expired) on every
-- request: with the expiry in an index of the open ones, that is an index-only range scan
-- instead of a visit to every invitation's row.
create index invitations_open_workspace_id_expires_at_idx on public.invitations (workspace_id, expires_at)
where (accepted_at is null and revoked_at is null);
