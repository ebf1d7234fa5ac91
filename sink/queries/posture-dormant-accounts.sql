-- name: posture-dormant-accounts
-- description: Accounts with stored activity whose last successful login is older than the given number of days (or that never logged in since they were first seen that long ago).
-- param: tenant String: the tenant
-- param: as_of DateTime64(3) = now: the instant the audit is made at
-- param: days UInt32 = 90: no successful login for this many days is dormant
SELECT concat(source_system, ':', user_id) AS account, user_id, any(user_name) AS user_name,
       maxIf(timestamp, category = 'authentication' AND action = 'login' AND outcome = 'success') AS last_login,
       countIf(category = 'authentication' AND action = 'login' AND outcome = 'success') AS logins,
       min(timestamp) AS first_seen, max(timestamp) AS last_seen
FROM audit_events
WHERE tenant = {tenant:String} AND source_system != 'directory' AND user_type != 'integration' AND user_type != 'system'
  AND timestamp <= {as_of:DateTime64(3)}
GROUP BY source_system, user_id
HAVING first_seen <= {as_of:DateTime64(3)} - toIntervalDay({days:UInt32})
   AND (logins = 0 OR last_login <= {as_of:DateTime64(3)} - toIntervalDay({days:UInt32}))
ORDER BY last_login, account
