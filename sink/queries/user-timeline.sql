-- name: user-timeline
-- description: A person's activity in a time range, newest first, each event once, with the rules that alerted on it.
-- param: tenant String: the tenant
-- param: person String: the person id, or the account id of an account no person was resolved for (person_key)
-- param: from DateTime64(3) = now-30d: start of the range
-- param: to DateTime64(3) = now: end of the range
-- param: limit UInt32 = 1000: most events returned
WITH ev AS
(
    SELECT id, timestamp, category, action, outcome, user_id, user_name, client_ip, geo_country, geo_city,
           object_type, object_id, object_name, records
    FROM audit_events
    WHERE tenant = {tenant:String} AND person_key = {person:String}
      AND timestamp BETWEEN {from:DateTime64(3)} AND {to:DateTime64(3)}
    ORDER BY timestamp DESC
    LIMIT 1 BY id
    LIMIT {limit:UInt32}
)
SELECT e.timestamp AS timestamp, e.id AS id, e.category AS category, e.action AS action, e.outcome AS outcome,
       e.user_id AS user_id, e.user_name AS user_name,
       if(isNull(e.client_ip), '', replaceRegexpOne(IPv6NumToString(assumeNotNull(e.client_ip)), '^::ffff:', '')) AS client_ip,
       e.geo_country AS country, e.geo_city AS city, e.object_type AS object_type, e.object_id AS object_id,
       e.object_name AS object_name, e.records AS records, h.rule_ids AS rule_ids
FROM ev AS e
LEFT JOIN
(
    SELECT event_id, arraySort(groupUniqArray(rule_id)) AS rule_ids
    FROM alert_event_hits
    WHERE tenant = {tenant:String} AND event_id IN (SELECT id FROM ev)
    GROUP BY event_id
) AS h ON h.event_id = e.id
ORDER BY e.timestamp DESC, e.id
