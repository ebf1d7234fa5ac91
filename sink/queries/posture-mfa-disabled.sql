-- name: posture-mfa-disabled
-- description: Accounts whose MFA the source last reported as disabled (an mfa_disable not followed by an mfa_enable), with who disabled it and when.
-- param: tenant String: the tenant
-- param: as_of DateTime64(3) = now: the instant the audit is made at
SELECT account, argMax(action, (timestamp, kafka_partition, kafka_offset)) AS last_action, max(timestamp) AS changed_at,
       argMax(user_id, (timestamp, kafka_partition, kafka_offset)) AS changed_by
FROM (
    SELECT if(target_user_id != '', target_user_id, user_id) AS account, action, timestamp, kafka_partition, kafka_offset, user_id
    FROM audit_events
    WHERE tenant = {tenant:String} AND action IN ('mfa_enable', 'mfa_disable') AND outcome = 'success'
      AND timestamp <= {as_of:DateTime64(3)}
)
GROUP BY account
HAVING last_action = 'mfa_disable'
ORDER BY changed_at, account
