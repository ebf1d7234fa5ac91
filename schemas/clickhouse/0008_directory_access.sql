-- trailwatch:requires access_storage
-- trailwatch:reapply
-- trailwatch:var tenant_role = trailwatch_tenant
-- trailwatch:var tenant_setting = SQL_trailwatch_tenant
--
-- Row policies for the tables that came after 0006_access_control.sql: the
-- identity directory (names and e-mail addresses of every tenant's people)
-- and the integrity chain heads. Without them a user holding the tenant
-- role would read other tenants' directories, since the analyst role may
-- SELECT every table. Like 0006, a ClickHouse server only (skipped on the
-- embedded engine), idempotent, run on every migrate.

CREATE ROW POLICY OR REPLACE tw_all_rows ON ${database}.directory_snapshots AS PERMISSIVE FOR SELECT USING 1 TO ALL;
CREATE ROW POLICY OR REPLACE tw_all_rows ON ${database}.directory_people AS PERMISSIVE FOR SELECT USING 1 TO ALL;

CREATE ROW POLICY OR REPLACE tw_tenant_scope ON ${database}.directory_snapshots AS RESTRICTIVE FOR SELECT USING tenant = getSetting('${tenant_setting}') TO ${tenant_role};
CREATE ROW POLICY OR REPLACE tw_tenant_scope ON ${database}.directory_people AS RESTRICTIVE FOR SELECT USING tenant = getSetting('${tenant_setting}') TO ${tenant_role};
CREATE ROW POLICY OR REPLACE tw_tenant_scope ON ${database}.integrity_heads AS RESTRICTIVE FOR SELECT USING tenant = getSetting('${tenant_setting}') TO ${tenant_role};
