-- name: alerts-by-rule
-- description: Alerts in a time range by rule and severity, most severe first.
-- param: tenant String: the tenant
-- param: from DateTime64(3) = now-7d: start of the range (trigger time)
-- param: to DateTime64(3) = now: end of the range
SELECT rule_id, severity, count() AS alerts, uniqExact(subject) AS accounts,
       min(triggered_at) AS first_alert, max(triggered_at) AS last_alert
FROM alerts FINAL
WHERE tenant = {tenant:String} AND triggered_at BETWEEN {from:DateTime64(3)} AND {to:DateTime64(3)}
GROUP BY rule_id, severity
ORDER BY indexOf(['info', 'low', 'medium', 'high', 'critical'], severity) DESC, alerts DESC, rule_id
