-- name: tracking-volume
-- description: A tenant's stored events and their uncompressed size by category and source over a window: what each tracking level (basic, standard, advanced) would store.
-- param: tenant String: the tenant
-- param: from DateTime64(3) = now-7d: start of the window
-- param: to DateTime64(3) = now: end of the window
SELECT source_system AS source, category, count() AS events,
       sum(byteSize(id, timestamp, source_system, source_id, category, action, outcome, user_id, user_name, person_id,
                    client_ip, client_user_agent, client_session_id, geo_country, geo_city, object_type, object_id, object_name,
                    change_field, change_old, change_new, comment, related_id, target_user_id, permission_name, label_keys, label_values)) AS bytes
FROM (
    SELECT * FROM audit_events
    WHERE tenant = {tenant:String} AND timestamp >= {from:DateTime64(3)} AND timestamp < {to:DateTime64(3)}
    LIMIT 1 BY id
)
GROUP BY source, category
ORDER BY source, category
