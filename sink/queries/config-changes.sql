-- name: config-changes
-- description: Configuration and audit-setting changes in a time range, oldest first, with the settings changed from what to what (directory imports left out).
-- param: tenant String: the tenant
-- param: from DateTime64(3) = now-24h: start of the range
-- param: to DateTime64(3) = now: end of the range
-- param: limit UInt32 = 10000: most rows returned
SELECT timestamp, id, source_system AS source, action, outcome, user_id, user_name, object_type, object_name,
       arrayStringConcat(arrayMap((f, o, n) -> concat(f, ': ', o, ' → ', n), change_field, change_old, change_new), '; ') AS changes
FROM audit_events
WHERE tenant = {tenant:String} AND category = 'configuration' AND source_system != 'directory'
  AND timestamp >= {from:DateTime64(3)} AND timestamp < {to:DateTime64(3)}
ORDER BY timestamp, kafka_partition, kafka_offset
LIMIT 1 BY id
LIMIT {limit:UInt32}
