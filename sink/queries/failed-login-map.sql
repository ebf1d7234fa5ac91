-- name: failed-login-map
-- description: Failed logins by country in a time range, with how many people they targeted and a mean position for a map.
-- param: tenant String: the tenant
-- param: from DateTime64(3) = now-24h: start of the range
-- param: to DateTime64(3) = now: end of the range
SELECT geo_country AS country, count() AS failures, uniqExact(person_key) AS people,
       round(avgIf(geo_lat, geo_lat IS NOT NULL), 3) AS lat, round(avgIf(geo_lon, geo_lon IS NOT NULL), 3) AS lon
FROM
(
    SELECT id, geo_country, person_key, geo_lat, geo_lon
    FROM audit_events
    WHERE tenant = {tenant:String} AND category = 'authentication' AND action = 'login' AND outcome = 'failure'
      AND timestamp BETWEEN {from:DateTime64(3)} AND {to:DateTime64(3)}
    LIMIT 1 BY id
)
GROUP BY country
ORDER BY failures DESC, country
