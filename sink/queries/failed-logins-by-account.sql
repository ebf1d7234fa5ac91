-- name: failed-logins-by-account
-- description: Failed logins in a time range by account and country, most failures first.
-- param: tenant String: the tenant
-- param: from DateTime64(3) = now-24h: start of the range
-- param: to DateTime64(3) = now: end of the range
-- param: limit UInt32 = 100: most rows returned
SELECT user_id, any(user_name) AS user_name, geo_country AS country, count() AS failures,
       groupUniqArray(10)(reason) AS reasons, max(timestamp) AS last_failure
FROM (
    SELECT id, user_id, user_name, geo_country, reason, timestamp FROM audit_events
    WHERE tenant = {tenant:String} AND category = 'authentication' AND action = 'login' AND outcome = 'failure'
      AND timestamp >= {from:DateTime64(3)} AND timestamp < {to:DateTime64(3)}
    LIMIT 1 BY id
)
GROUP BY user_id, country
ORDER BY failures DESC, user_id, country
LIMIT {limit:UInt32}
