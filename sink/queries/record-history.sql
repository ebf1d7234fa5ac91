-- name: record-history
-- description: A record's full change history, oldest first: who changed which field from what to what, when, and from where.
-- param: tenant String: the tenant
-- param: object_id String: the record's id (object.id)
-- param: limit UInt32 = 10000: most rows returned
SELECT timestamp, id, action, user_id, user_name, field, old, new,
       if(isNull(client_ip), '', replaceRegexpOne(IPv6NumToString(assumeNotNull(client_ip)), '^::ffff:', '')) AS client_ip,
       geo_country AS country, geo_city AS city, comment
FROM
(
    SELECT timestamp, id, action, user_id, user_name, change_field, change_old, change_new, client_ip,
           geo_country, geo_city, comment
    FROM audit_events
    WHERE tenant = {tenant:String} AND object_id = {object_id:String}
      AND (category = 'data_change' OR notEmpty(change_field))
    ORDER BY timestamp
    LIMIT 1 BY id
)
LEFT ARRAY JOIN change_field AS field, change_old AS old, change_new AS new
ORDER BY timestamp, id, field
LIMIT {limit:UInt32}
