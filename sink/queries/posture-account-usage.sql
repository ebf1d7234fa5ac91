-- name: posture-account-usage
-- description: Per account (source system and user id) of a tenant: successful logins, exports and permission or configuration changes in the window before as_of, the last successful login and the first stored event, so that rights listed in a permissions snapshot can be judged used or unused (the earliest first event of a source is where its stored trail starts).
-- param: tenant String: the tenant
-- param: as_of DateTime64(3) = now: the instant the audit is made at
-- param: days UInt32 = 90: length of the window, in days
SELECT source_system, user_id,
       uniqExactIf(id, category = 'authentication' AND action = 'login' AND outcome = 'success'
                   AND timestamp > {as_of:DateTime64(3)} - toIntervalDay({days:UInt32})) AS logins,
       uniqExactIf(id, category = 'export' AND outcome = 'success'
                   AND timestamp > {as_of:DateTime64(3)} - toIntervalDay({days:UInt32})) AS exports,
       uniqExactIf(id, category IN ('permission', 'configuration') AND outcome = 'success'
                   AND timestamp > {as_of:DateTime64(3)} - toIntervalDay({days:UInt32})) AS admin_actions,
       maxIf(timestamp, category = 'authentication' AND action = 'login' AND outcome = 'success') AS last_login,
       min(timestamp) AS first_seen
FROM audit_events
WHERE tenant = {tenant:String} AND source_system != 'directory' AND timestamp <= {as_of:DateTime64(3)}
GROUP BY source_system, user_id
ORDER BY source_system, user_id
