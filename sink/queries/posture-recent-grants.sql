-- name: posture-recent-grants
-- description: Rights granted to an account (permission grant events, by target account) in the window before as_of: rights this recent are too new to be judged unused.
-- param: tenant String: the tenant
-- param: as_of DateTime64(3) = now: the instant the audit is made at
-- param: days UInt32 = 90: length of the window, in days
SELECT source_system, target_user_id AS user_id, permission_name AS permission, max(timestamp) AS granted_at
FROM audit_events
WHERE tenant = {tenant:String} AND category = 'permission' AND action = 'grant' AND outcome = 'success'
  AND target_user_id != '' AND permission_name != ''
  AND timestamp > {as_of:DateTime64(3)} - toIntervalDay({days:UInt32}) AND timestamp <= {as_of:DateTime64(3)}
GROUP BY source_system, user_id, permission
ORDER BY source_system, user_id, permission
