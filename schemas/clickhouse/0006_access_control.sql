-- trailwatch:requires access_storage
-- trailwatch:reapply
-- trailwatch:var writer_role = trailwatch_writer
-- trailwatch:var analyst_role = trailwatch_analyst
-- trailwatch:var auditor_role = trailwatch_auditor
-- trailwatch:var tenant_role = trailwatch_tenant
-- trailwatch:var tenant_setting = SQL_trailwatch_tenant
--
-- SQL access control, on a ClickHouse server only: the embedded engine has
-- no writable access storage, so Migrate skips this file there (by the
-- requires line above) and the embedded server's configured users stand
-- in (docs/STORAGE.md, "Access control"). The names come from the
-- storage.access settings; every statement is idempotent and the file runs
-- on every migrate (reapply), so a renamed role is created on the next
-- start (the old one is left for an administrator to drop).
--
-- Roles:
--   writer   the sink: inserts rows, reads only its own bookkeeping (chain
--            heads, checkpoints, applied migrations), never the events.
--   analyst  reads everything.
--   auditor  reads the *_masked views and the roll-ups, not the tables.
--   tenant   restricts whoever has it to one tenant: a restrictive row
--            policy compares each row's tenant with the user's custom
--            setting ${tenant_setting}, which the administrator sets as a
--            CONST setting of the user, e.g.
--              CREATE USER acme_soc IDENTIFIED BY '…'
--                DEFAULT ROLE ${analyst_role}, ${tenant_role}
--                SETTINGS ${tenant_setting} = 'acme' CONST;
--            (the server's custom_settings_prefixes must allow the prefix;
--            SQL_ is the default).
CREATE ROLE IF NOT EXISTS ${writer_role};
CREATE ROLE IF NOT EXISTS ${analyst_role};
CREATE ROLE IF NOT EXISTS ${auditor_role};
CREATE ROLE IF NOT EXISTS ${tenant_role};

GRANT INSERT ON ${database}.audit_events TO ${writer_role};
GRANT INSERT ON ${database}.alerts TO ${writer_role};
GRANT INSERT ON ${database}.actions TO ${writer_role};
GRANT INSERT, SELECT ON ${database}.integrity_heads TO ${writer_role};
GRANT INSERT, SELECT ON ${database}.integrity_checkpoints TO ${writer_role};
GRANT SELECT ON ${database}.trailwatch_migrations TO ${writer_role};

GRANT SELECT ON ${database}.* TO ${analyst_role};

GRANT SELECT ON ${database}.audit_events_masked TO ${auditor_role};
GRANT SELECT ON ${database}.alerts_masked TO ${auditor_role};
GRANT SELECT ON ${database}.actions_masked TO ${auditor_role};
GRANT SELECT ON ${database}.rollup_activity_minute TO ${auditor_role};
GRANT SELECT ON ${database}.rollup_alerts_hourly TO ${auditor_role};
GRANT SELECT ON ${database}.integrity_checkpoints TO ${auditor_role};

-- Row policies. Once a table has a policy, ClickHouse shows a user only
-- rows some permissive policy of theirs allows, so everyone gets the
-- permissive all-rows policy and the tenant role adds a restrictive one.
CREATE ROW POLICY OR REPLACE tw_all_rows ON ${database}.audit_events AS PERMISSIVE FOR SELECT USING 1 TO ALL;
CREATE ROW POLICY OR REPLACE tw_all_rows ON ${database}.alerts AS PERMISSIVE FOR SELECT USING 1 TO ALL;
CREATE ROW POLICY OR REPLACE tw_all_rows ON ${database}.actions AS PERMISSIVE FOR SELECT USING 1 TO ALL;
CREATE ROW POLICY OR REPLACE tw_all_rows ON ${database}.alert_event_hits AS PERMISSIVE FOR SELECT USING 1 TO ALL;
CREATE ROW POLICY OR REPLACE tw_all_rows ON ${database}.rollup_activity_minute AS PERMISSIVE FOR SELECT USING 1 TO ALL;
CREATE ROW POLICY OR REPLACE tw_all_rows ON ${database}.rollup_exports_daily AS PERMISSIVE FOR SELECT USING 1 TO ALL;
CREATE ROW POLICY OR REPLACE tw_all_rows ON ${database}.rollup_failed_logins_hourly AS PERMISSIVE FOR SELECT USING 1 TO ALL;
CREATE ROW POLICY OR REPLACE tw_all_rows ON ${database}.rollup_alerts_hourly AS PERMISSIVE FOR SELECT USING 1 TO ALL;
CREATE ROW POLICY OR REPLACE tw_all_rows ON ${database}.integrity_checkpoints AS PERMISSIVE FOR SELECT USING 1 TO ALL;
CREATE ROW POLICY OR REPLACE tw_all_rows ON ${database}.integrity_heads AS PERMISSIVE FOR SELECT USING 1 TO ALL;

CREATE ROW POLICY OR REPLACE tw_tenant_scope ON ${database}.audit_events AS RESTRICTIVE FOR SELECT USING tenant = getSetting('${tenant_setting}') TO ${tenant_role};
CREATE ROW POLICY OR REPLACE tw_tenant_scope ON ${database}.alerts AS RESTRICTIVE FOR SELECT USING tenant = getSetting('${tenant_setting}') TO ${tenant_role};
CREATE ROW POLICY OR REPLACE tw_tenant_scope ON ${database}.actions AS RESTRICTIVE FOR SELECT USING tenant = getSetting('${tenant_setting}') TO ${tenant_role};
CREATE ROW POLICY OR REPLACE tw_tenant_scope ON ${database}.alert_event_hits AS RESTRICTIVE FOR SELECT USING tenant = getSetting('${tenant_setting}') TO ${tenant_role};
CREATE ROW POLICY OR REPLACE tw_tenant_scope ON ${database}.rollup_activity_minute AS RESTRICTIVE FOR SELECT USING tenant = getSetting('${tenant_setting}') TO ${tenant_role};
CREATE ROW POLICY OR REPLACE tw_tenant_scope ON ${database}.rollup_exports_daily AS RESTRICTIVE FOR SELECT USING tenant = getSetting('${tenant_setting}') TO ${tenant_role};
CREATE ROW POLICY OR REPLACE tw_tenant_scope ON ${database}.rollup_failed_logins_hourly AS RESTRICTIVE FOR SELECT USING tenant = getSetting('${tenant_setting}') TO ${tenant_role};
CREATE ROW POLICY OR REPLACE tw_tenant_scope ON ${database}.rollup_alerts_hourly AS RESTRICTIVE FOR SELECT USING tenant = getSetting('${tenant_setting}') TO ${tenant_role};
CREATE ROW POLICY OR REPLACE tw_tenant_scope ON ${database}.integrity_checkpoints AS RESTRICTIVE FOR SELECT USING tenant = getSetting('${tenant_setting}') TO ${tenant_role};
