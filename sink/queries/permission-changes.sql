-- name: permission-changes
-- description: Permission and role changes in a time range, oldest first: who granted or revoked what to whom.
-- param: tenant String: the tenant
-- param: from DateTime64(3) = now-24h: start of the range
-- param: to DateTime64(3) = now: end of the range
-- param: limit UInt32 = 10000: most rows returned
SELECT timestamp, id, source_system AS source, action, outcome, user_id, user_name, target_user_id, target_user_name,
       permission_name AS permission, permission_scope AS scope
FROM audit_events
WHERE tenant = {tenant:String} AND category = 'permission'
  AND timestamp >= {from:DateTime64(3)} AND timestamp < {to:DateTime64(3)}
ORDER BY timestamp, kafka_partition, kafka_offset
LIMIT 1 BY id
LIMIT {limit:UInt32}
