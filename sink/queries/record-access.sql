-- name: record-access
-- description: Who viewed, searched, ran a report on or exported a record (as the object acted on or as a related record), newest first: what regulators ask about first.
-- param: tenant String: the tenant
-- param: object_id String: the record's id (object.id or a related id)
-- param: from DateTime64(3) = now-400d: start of the window
-- param: to DateTime64(3) = now: end of the window
-- param: limit UInt32 = 10000: most rows returned
SELECT timestamp, id, category, action, outcome, user_id, user_name,
       if(isNull(client_ip), '', replaceRegexpOne(IPv6NumToString(assumeNotNull(client_ip)), '^::ffff:', '')) AS client_ip,
       geo_country AS country, object_type, object_id, records
FROM audit_events
WHERE tenant = {tenant:String}
  AND (object_id = {object_id:String} OR has(related_id, {object_id:String}))
  AND category IN ('data_access', 'export')
  AND timestamp >= {from:DateTime64(3)} AND timestamp <= {to:DateTime64(3)}
ORDER BY timestamp DESC, kafka_partition DESC, kafka_offset DESC
LIMIT 1 BY id
LIMIT {limit:UInt32}
