-- name: exports-by-person
-- description: Who exported how much in a time range: successful exports per person, largest total first.
-- param: tenant String: the tenant
-- param: from DateTime64(3) = now-24h: start of the range
-- param: to DateTime64(3) = now: end of the range
-- param: min_records UInt64 = 0: leave out people who exported fewer records in all
-- param: limit UInt32 = 20: most people returned
SELECT person_key AS person, any(user_name) AS user_name, count() AS exports,
       sum(ifNull(records, 0)) AS exported_records, max(ifNull(records, 0)) AS largest_export,
       max(timestamp) AS last_export
FROM
(
    SELECT id, person_key, user_name, records, timestamp
    FROM audit_events
    WHERE tenant = {tenant:String} AND category = 'export' AND outcome = 'success'
      AND timestamp BETWEEN {from:DateTime64(3)} AND {to:DateTime64(3)}
    LIMIT 1 BY id
)
GROUP BY person_key
HAVING exported_records >= {min_records:UInt64}
ORDER BY exported_records DESC, person
LIMIT {limit:UInt32}
