-- pg_prove connects as hosted Supabase's postgres, a non-superuser, so a file that needs
-- superuser powers fails here as it would on a hosted project.
begin;
select plan(4);

select is(session_user::text, 'postgres', 'pgTAP runs as postgres');
select is(
    (
        select r.rolsuper from pg_catalog.pg_roles as r
        where r.rolname = session_user
    ),
    false,
    'postgres is not a superuser'
);
-- Hosted's supautils lets postgres set session_replication_role (privileged_role_allowed_configs
-- in supabase/postgres ansible/files/postgresql_config/supautils.conf.j2); the compat layer grants
-- the same, to postgres only.
select is(
    tests.caught('set local session_replication_role = replica'),
    null,
    'replica mode is allowed to postgres, as supautils allows it on hosted'
);
set local session_replication_role = origin;

select tests.authenticate_as_anon();
select ok(true, 'pgtap stays executable as anon');
select tests.clear_authentication();

select * from finish();
rollback;
