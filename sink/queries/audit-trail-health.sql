-- name: audit-trail-health
-- description: Audit-trail health per source: events in the last hour against the hourly mean of the week before, when the last event arrived, and the clock skew between the event time and ingest; a source is silent (nothing in the last hour), low (under a quarter of its usual hourly volume) or skewed (median skew over five minutes either way).
-- param: tenant String: the tenant
-- param: at DateTime64(3) = now: the instant the health is judged at
SELECT source_system AS source,
       uniqExactIf(id, timestamp > {at:DateTime64(3)} - INTERVAL 1 HOUR) AS last_hour,
       round(uniqExactIf(id, timestamp <= {at:DateTime64(3)} - INTERVAL 1 HOUR) / 168, 1) AS usual_per_hour,
       max(timestamp) AS last_event,
       round(ifNotFinite(quantileExactIf(0.5)(dateDiff('millisecond', timestamp, ingested_at) / 1000, timestamp > {at:DateTime64(3)} - INTERVAL 1 DAY), 0), 1) AS skew_p50_seconds,
       multiIf(last_hour = 0, 'silent',
               last_hour < usual_per_hour / 4, 'low',
               abs(skew_p50_seconds) > 300, 'skewed', 'ok') AS status
FROM audit_events
WHERE tenant = {tenant:String} AND source_system != 'directory'
  AND timestamp > {at:DateTime64(3)} - INTERVAL 169 HOUR AND timestamp <= {at:DateTime64(3)}
GROUP BY source
ORDER BY status = 'ok', source
