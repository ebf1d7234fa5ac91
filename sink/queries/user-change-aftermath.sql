-- name: user-change-aftermath
-- description: Every field change, by anyone, from `from` on, to the record fields a user changed between from and to (optionally one object type and field): what a rollback of that user's bulk change must restore, and what others changed since.
-- param: tenant String: the tenant
-- param: user_id String: the account whose changes are examined (user.id)
-- param: from DateTime64(3): start of the user's change window
-- param: to DateTime64(3): end of the user's change window
-- param: object_type String = -: only records of this type (object.type); - for any
-- param: field String = -: only this field; - for any
-- param: limit UInt32 = 1000000: most rows returned
SELECT timestamp, id, kafka_partition, kafka_offset, user_id, user_name, object_type, object_id, field, old, new
FROM
(
    SELECT timestamp, id, kafka_partition, kafka_offset, user_id, user_name, object_type, object_id,
           change_field, change_old, change_new
    FROM audit_events
    WHERE tenant = {tenant:String} AND timestamp >= {from:DateTime64(3)} AND notEmpty(change_field)
      AND ({object_type:String} = '-' OR object_type = {object_type:String})
      AND object_id IN (
          SELECT object_id FROM audit_events
          WHERE tenant = {tenant:String} AND user_id = {user_id:String}
            AND timestamp >= {from:DateTime64(3)} AND timestamp <= {to:DateTime64(3)}
            AND notEmpty(change_field))
    ORDER BY timestamp, kafka_partition, kafka_offset
    LIMIT 1 BY id
)
ARRAY JOIN change_field AS field, change_old AS old, change_new AS new
WHERE ({field:String} = '-' OR field = {field:String})
  AND (object_type, object_id, field) IN (
      SELECT object_type, object_id, f FROM audit_events
      ARRAY JOIN change_field AS f
      WHERE tenant = {tenant:String} AND user_id = {user_id:String}
        AND timestamp >= {from:DateTime64(3)} AND timestamp <= {to:DateTime64(3)})
ORDER BY timestamp, kafka_partition, kafka_offset, field
LIMIT {limit:UInt32}
