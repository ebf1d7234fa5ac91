-- name: activity-by-day
-- description: User activity trend: events and active people per day and category in a time range, each event once.
-- param: tenant String: the tenant
-- param: from DateTime64(3) = now-30d: start of the range
-- param: to DateTime64(3) = now: end of the range
SELECT toDate(timestamp) AS day, category, count() AS events, uniqExact(person_key) AS people
FROM (
    SELECT timestamp, category, person_key FROM audit_events
    WHERE tenant = {tenant:String} AND timestamp >= {from:DateTime64(3)} AND timestamp < {to:DateTime64(3)}
      AND source_system != 'directory'
    LIMIT 1 BY id
)
GROUP BY day, category
ORDER BY day, category
