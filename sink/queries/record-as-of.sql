-- name: record-as-of
-- description: A record's field values as of an instant, reconstructed from the stored changes: for each field ever changed up to as_of, its value after the last change (events in time order, ties in log order), when and by whom it was set.
-- param: tenant String: the tenant
-- param: object_type String = -: the record's type (object.type); - for any
-- param: object_id String: the record's id (object.id)
-- param: as_of DateTime64(3) = now: the instant
SELECT field,
       argMax(new, (timestamp, kafka_partition, kafka_offset, n)) AS value,
       max(timestamp) AS changed_at,
       argMax(user_id, (timestamp, kafka_partition, kafka_offset, n)) AS changed_by,
       argMax(id, (timestamp, kafka_partition, kafka_offset, n)) AS event_id
FROM
(
    SELECT timestamp, id, kafka_partition, kafka_offset, user_id, change_field, change_new
    FROM audit_events
    WHERE tenant = {tenant:String} AND object_id = {object_id:String}
      AND ({object_type:String} = '-' OR object_type = {object_type:String})
      AND timestamp <= {as_of:DateTime64(3)} AND notEmpty(change_field)
    ORDER BY timestamp, kafka_partition, kafka_offset
    LIMIT 1 BY id
)
ARRAY JOIN change_field AS field, change_new AS new, arrayEnumerate(change_field) AS n
GROUP BY field
ORDER BY field
