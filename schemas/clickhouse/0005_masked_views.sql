-- What an auditor reads: the audit trail with personal fields masked.
--
-- Account and person ids stay (they are pseudonymous, and an auditor must
-- be able to follow one account); names, e-mail addresses, free text,
-- device and session identifiers, exact places and the values of changed
-- fields are hidden; IP addresses keep their network (/24 for IPv4, /48 for
-- IPv6). The views run with their definer's rights (SQL SECURITY DEFINER),
-- so the auditor role is granted these views and not the tables beneath
-- (0006_access_control.sql). On the embedded engine they exist and work,
-- but nothing stops a reader from reading the tables (docs/STORAGE.md).
CREATE VIEW IF NOT EXISTS audit_events_masked
DEFINER = CURRENT_USER SQL SECURITY DEFINER AS
SELECT
    id, timestamp, tz_offset_minutes, tenant, source_system, source_id, source_collector,
    category, action, outcome, reason,
    user_id, if(user_name = '', '', '(masked)') AS user_name, person_id, person_key,
    if(user_employee_id = '', '', '(masked)') AS user_employee_id,
    user_role, user_department, user_type, user_timezone,
    if(client_ip IS NULL, '', cutIPv6(assumeNotNull(client_ip), 10, 1)) AS client_network,
    if(client_user_agent = '', '', '(masked)') AS client_user_agent,
    if(client_device_id = '', '', '(masked)') AS client_device_id,
    if(client_session_id = '', '', '(masked)') AS client_session_id,
    client_access_method, geo_country, geo_region, geo_enriched,
    object_type, object_id, if(object_name = '', '', '(masked)') AS object_name, object_owner_id,
    change_field, arrayMap(x -> if(x = '', '', '(masked)'), change_old) AS change_old,
    arrayMap(x -> if(x = '', '', '(masked)'), change_new) AS change_new,
    records, if(comment = '', '', '(masked)') AS comment, related_type, related_id,
    target_user_id, if(target_user_name = '', '', '(masked)') AS target_user_name,
    permission_name, permission_scope, label_keys,
    dir_role, dir_department, dir_manager,
    ingested_at, kafka_partition, kafka_offset
FROM audit_events;

CREATE VIEW IF NOT EXISTS alerts_masked
DEFINER = CURRENT_USER SQL SECURITY DEFINER AS
SELECT
    id, tenant, rule_id, rule_version, rule_title, severity, rule_tags, group_keys,
    arrayMap((k, v) -> if(k IN ('user.name', 'target_user.name', 'object.name'), '(masked)', v), group_keys, group_values) AS group_values,
    subject, window_start, window_end, triggered_at, detected_at, event_ids,
    '(masked)' AS summary, action_ids, ingested_at
FROM alerts;

CREATE VIEW IF NOT EXISTS actions_masked
DEFINER = CURRENT_USER SQL SECURITY DEFINER AS
SELECT
    id, tenant, type, alert_id, target, if(target_name = '', '', '(masked)') AS target_name, target_type,
    mode, status, requested_at, completed_at, recorded_at, error, rule_id, rule_version, severity,
    '(masked)' AS summary, if(actor = '', '', '(masked)') AS actor, attempt, undoes, ingested_at
FROM actions;
