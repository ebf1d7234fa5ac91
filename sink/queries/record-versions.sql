-- name: record-versions
-- description: A record's versions, oldest first: one row per stored event that touched it (create, update, delete, …) with who, when, from where, the stated reason and the field changes as parallel arrays. Events after as_of are left out.
-- param: tenant String: the tenant
-- param: object_type String = -: the record's type (object.type); - for any
-- param: object_id String: the record's id (object.id)
-- param: as_of DateTime64(3) = now: versions up to and including this instant
-- param: limit UInt32 = 100000: most versions returned
SELECT timestamp, id, kafka_partition, kafka_offset, object_type, category, action, outcome, reason,
       user_id, user_name,
       if(isNull(client_ip), '', replaceRegexpOne(IPv6NumToString(assumeNotNull(client_ip)), '^::ffff:', '')) AS client_ip,
       geo_country AS country, geo_city AS city, comment, change_field, change_old, change_new
FROM audit_events
WHERE tenant = {tenant:String} AND object_id = {object_id:String}
  AND ({object_type:String} = '-' OR object_type = {object_type:String})
  AND timestamp <= {as_of:DateTime64(3)}
  AND category IN ('data_change', 'configuration', 'permission')
ORDER BY timestamp, kafka_partition, kafka_offset
LIMIT 1 BY id
LIMIT {limit:UInt32}
