-- name: top-risky-accounts
-- description: Accounts ranked by the severity of their alerts in a time range (critical 25, high 10, medium 5, low 2, info 1 point per alert).
-- param: tenant String: the tenant
-- param: from DateTime64(3) = now-7d: start of the range (trigger time)
-- param: to DateTime64(3) = now: end of the range
-- param: limit UInt32 = 20: most accounts returned
SELECT subject AS account,
       sum(multiIf(severity = 'critical', 25, severity = 'high', 10, severity = 'medium', 5, severity = 'low', 2, 1)) AS score,
       count() AS alerts, arraySort(groupUniqArray(rule_id)) AS rules, max(triggered_at) AS last_alert
FROM alerts FINAL
WHERE tenant = {tenant:String} AND subject != '' AND triggered_at BETWEEN {from:DateTime64(3)} AND {to:DateTime64(3)}
GROUP BY subject
ORDER BY score DESC, account
LIMIT {limit:UInt32}
