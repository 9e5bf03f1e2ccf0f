-- pgmq as hosted Supabase installs it, for a plain PostgreSQL: scripts/provision.sh wraps the
-- install SQL that the pgmq Python package embeds into a local extension (pgmq.control,
-- pgmq--<version>.sql) with this file around it. On hosted, `create extension pgmq` by postgres
-- runs through supautils as the platform admin (supautils.privileged_role = 'postgres', in
-- supabase/postgres ansible/files/postgresql_config/supautils.conf.j2), then the platform's
-- after-create script runs. Locally the extension is `trusted`, so its script runs as the
-- cluster's bootstrap superuser (supabase_admin), and it does the same two things:
--
-- BEFORE: a schema pgmq that does not exist yet is created by the admin, who then owns it (as
-- the schema the platform admin creates on hosted). A project that wants to add queues creates
-- schema pgmq itself first (the foundation migration does).
-- Then pgmq's own install SQL, which provision.sh puts where the marker line below stands.
-- AFTER: supabase/postgres ansible/files/postgresql_extension_custom_scripts/pgmq/after-create.sql
-- hands the extension and every object it made (tables, types, functions) to postgres, and
-- nothing on the schema.

-- BEFORE (a DO block: an extension script may not skip an existing schema with IF NOT EXISTS)
do $before_create$
begin
    if not exists (select 1 from pg_catalog.pg_namespace where nspname = 'pgmq') then
        create schema pgmq;
    end if;
end
$before_create$;

-- @PGMQ_INSTALL_SQL@

-- AFTER
do $after_create$
declare
    extoid oid := (select e.oid from pg_catalog.pg_extension as e where e.extname = 'pgmq');
    r record;
    relkind "char";
begin
    update pg_catalog.pg_extension set extowner = 'postgres'::regrole where oid = extoid;
    for r in (select d.classid, d.objid from pg_catalog.pg_depend as d where d.refobjid = extoid) loop
        if r.classid = 'pg_catalog.pg_type'::regclass then
            select c.relkind into relkind from pg_catalog.pg_class as c where c.reltype = r.objid;
            if r.objid::regtype::text like '%[]' then
                null;  -- array types follow their element type
            elsif relkind in ('r', 'p', 'f', 'm') then
                null;  -- a table's row type follows its table
            else
                execute pg_catalog.format('alter type %s owner to postgres', r.objid::regtype);
            end if;
        elsif r.classid = 'pg_catalog.pg_proc'::regclass then
            execute pg_catalog.format(
                'alter routine %s(%s) owner to postgres',
                r.objid::regproc, pg_catalog.pg_get_function_identity_arguments(r.objid)
            );
        elsif r.classid = 'pg_catalog.pg_class'::regclass then
            execute pg_catalog.format('alter table %s owner to postgres', r.objid::regclass);
        elsif r.classid = 'pg_catalog.pg_namespace'::regclass then
            null;  -- the schema stays whose it was (hosted: the platform admin's, unless postgres made it)
        else
            raise exception 'pgmq after-create: unexpected object type %', r.classid;
        end if;
    end loop;
end
$after_create$;
