-- name: rejected-by-reason
-- description: Rejected inputs of a tenant (dead letters of every stage, stored by the sink in dead_letters) over the day before the given instant, by stage, source and reason, with the field blamed, how many in the last hour and the day, their bytes, and when the first and last arrived. Numbers in a reason are folded to N, so one kind of rejection is one row; reasons never quote the rejected value. Rejects whose tenant nobody could tell have an empty tenant and appear in no tenant's report.
-- param: tenant String: the tenant
-- param: at DateTime64(3) = now: the instant the day ends at
SELECT stage,
       source,
       replaceRegexpAll(reason, '[0-9]+', 'N') AS reason_kind,
       field,
       countIf(received_at > {at:DateTime64(3)} - INTERVAL 1 HOUR) AS last_hour,
       count() AS last_day,
       sum(raw_size) AS bytes,
       min(received_at) AS first_seen,
       max(received_at) AS last_seen
FROM dead_letters FINAL
WHERE tenant = {tenant:String}
  AND received_at > {at:DateTime64(3)} - INTERVAL 1 DAY AND received_at <= {at:DateTime64(3)}
GROUP BY stage, source, reason_kind, field
ORDER BY last_day DESC, stage, source, reason_kind, field
