-- trailwatch:requires access_storage
-- trailwatch:reapply
-- trailwatch:var writer_role = trailwatch_writer
-- trailwatch:var tenant_role = trailwatch_tenant
-- trailwatch:var tenant_setting = SQL_trailwatch_tenant
--
-- Access to dead_letters (0010), as 0006 grants it for the other tables:
-- the sink inserts, the analyst role reads (it may SELECT every table), a
-- tenant-scoped user sees only its tenant's rejects (rows of an unknown
-- tenant only to users without the tenant role). Like 0006, a ClickHouse
-- server only (skipped on the embedded engine), idempotent, run on every
-- migrate.
GRANT INSERT ON ${database}.dead_letters TO ${writer_role};

CREATE ROW POLICY OR REPLACE tw_all_rows ON ${database}.dead_letters AS PERMISSIVE FOR SELECT USING 1 TO ALL;
CREATE ROW POLICY OR REPLACE tw_tenant_scope ON ${database}.dead_letters AS RESTRICTIVE FOR SELECT USING tenant = getSetting('${tenant_setting}') TO ${tenant_role};
