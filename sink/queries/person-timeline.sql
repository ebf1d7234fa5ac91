-- name: person-timeline
-- description: One person's activity across every system in a time range, newest first, each event once: the events resolved to the person, and the events of their accounts (per the tenant's newest directory snapshot) stored before the directory knew those accounts.
-- param: tenant String: the tenant
-- param: person String: the person id of the directory (user.person_id)
-- param: from DateTime64(3) = now-30d: start of the range
-- param: to DateTime64(3) = now: end of the range
-- param: limit UInt32 = 1000: most events returned
SELECT timestamp, id, source_system, user_id, user_name, person_id != '' AS resolved,
       category, action, outcome,
       if(isNull(client_ip), '', replaceRegexpOne(IPv6NumToString(assumeNotNull(client_ip)), '^::ffff:', '')) AS client_ip,
       geo_country AS country, object_type, object_id, object_name, records
FROM audit_events
WHERE tenant = {tenant:String}
  AND timestamp BETWEEN {from:DateTime64(3)} AND {to:DateTime64(3)}
  AND (person_key = {person:String}
       OR (person_id = '' AND concat(source_system, ':', user_id) IN (
           SELECT arrayJoin(accounts) FROM directory_people_latest
           WHERE tenant = {tenant:String} AND person_id = {person:String})))
ORDER BY timestamp DESC, id
LIMIT 1 BY id
LIMIT {limit:UInt32}
