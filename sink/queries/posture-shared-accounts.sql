-- name: posture-shared-accounts
-- description: Accounts that look shared or generic: successful logins from two or more countries, or three or more devices, within one clock hour, or a role-like login name (admin, sales, support, info, team …); integration and system accounts excepted.
-- param: tenant String: the tenant
-- param: as_of DateTime64(3) = now: end of the window
-- param: days UInt32 = 30: length of the window, in days
SELECT user_id, any(name) AS user_name, sum(logins) AS logins,
       max(countries) AS max_countries_in_an_hour, max(devices) AS max_devices_in_an_hour,
       match(lower(splitByChar('@', any(name))[1]), '^(admin|administrator|sales|support|info|team|shared|generic|test|service|ops|marketing|crm|helpdesk|office|reception|finance|hr)[._-]?[0-9]*$') AS role_like_name
FROM
(
    SELECT user_id, any(user_name) AS name, toStartOfHour(timestamp) AS hour, uniqExact(id) AS logins,
           uniqExactIf(geo_country, geo_country != '') AS countries,
           uniqExactIf(client_device_id, client_device_id != '') AS devices
    FROM audit_events
    WHERE tenant = {tenant:String} AND category = 'authentication' AND action = 'login' AND outcome = 'success'
      AND user_type NOT IN ('integration', 'system')
      AND timestamp > {as_of:DateTime64(3)} - toIntervalDay({days:UInt32}) AND timestamp <= {as_of:DateTime64(3)}
    GROUP BY user_id, hour
)
GROUP BY user_id
HAVING max_countries_in_an_hour >= 2 OR max_devices_in_an_hour >= 3 OR role_like_name
ORDER BY user_id
