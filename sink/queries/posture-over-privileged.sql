-- name: posture-over-privileged
-- description: Export or administration rights held (last granted, not revoked since, per the stored permission events) for at least the given number of days and unused in that time: no export for an export right, no permission or configuration change for an administration right.
-- param: tenant String: the tenant
-- param: as_of DateTime64(3) = now: the instant the audit is made at
-- param: days UInt32 = 90: a right unused this long is over-privilege
SELECT g.user_id AS user_id, g.user_name AS user_name, g.permission AS permission, g.kind AS kind, g.granted_at AS granted_at,
       u.exports AS exports, u.admin_actions AS admin_actions
FROM
(
    SELECT target_user_id AS user_id, any(target_user_name) AS user_name, permission_name AS permission,
           multiIf(match(lower(permission_name), 'export'), 'export',
                   match(lower(permission_name), 'admin|modify ?all|manage ?users|customize|view ?all ?data|author ?apex'), 'admin', '') AS kind,
           argMax(action, (timestamp, kafka_partition, kafka_offset)) AS last_action,
           maxIf(timestamp, action = 'grant') AS granted_at
    FROM audit_events
    WHERE tenant = {tenant:String} AND category = 'permission' AND action IN ('grant', 'revoke') AND outcome = 'success'
      AND target_user_id != '' AND timestamp <= {as_of:DateTime64(3)}
    GROUP BY user_id, permission
    HAVING last_action = 'grant' AND kind != '' AND granted_at <= {as_of:DateTime64(3)} - toIntervalDay({days:UInt32})
) AS g
LEFT JOIN
(
    SELECT user_id, uniqExactIf(id, category = 'export') AS exports,
           uniqExactIf(id, category IN ('permission', 'configuration')) AS admin_actions
    FROM audit_events
    WHERE tenant = {tenant:String} AND outcome = 'success'
      AND timestamp > {as_of:DateTime64(3)} - toIntervalDay({days:UInt32}) AND timestamp <= {as_of:DateTime64(3)}
    GROUP BY user_id
) AS u ON u.user_id = g.user_id
WHERE (g.kind = 'export' AND u.exports = 0) OR (g.kind = 'admin' AND u.admin_actions = 0)
ORDER BY user_id, permission
