-- name: posture-ghost-accounts
-- description: Accounts still active in a CRM (successful events in the window) whose person the tenant's newest directory snapshot says has left (activity after the leaving date), or that no entry of the newest snapshot holds although an earlier snapshot did.
-- param: tenant String: the tenant
-- param: as_of DateTime64(3) = now: end of the window
-- param: days UInt32 = 30: length of the window, in days
SELECT a.account AS account, a.user_id AS user_id, a.user_name AS user_name, a.events AS events, a.last_seen AS last_seen,
       d.person_id AS person_id, if(d.person_id = '', 'removed', d.status) AS status, d.status_date AS status_date
FROM
(
    SELECT concat(source_system, ':', user_id) AS account, user_id, any(user_name) AS user_name,
           uniqExact(id) AS events, max(timestamp) AS last_seen
    FROM audit_events
    WHERE tenant = {tenant:String} AND source_system != 'directory' AND outcome = 'success'
      AND timestamp > {as_of:DateTime64(3)} - toIntervalDay({days:UInt32}) AND timestamp <= {as_of:DateTime64(3)}
    GROUP BY source_system, user_id
) AS a
LEFT JOIN
(
    SELECT arrayJoin(accounts) AS account, person_id, status, status_date
    FROM directory_people_latest WHERE tenant = {tenant:String}
) AS d ON d.account = a.account
LEFT JOIN
(
    SELECT DISTINCT arrayJoin(accounts) AS account
    FROM directory_people
    WHERE tenant = {tenant:String} AND snapshot_id IN (SELECT snapshot_id FROM directory_snapshots WHERE tenant = {tenant:String})
) AS ever ON ever.account = a.account
WHERE (d.status = 'left' AND (isNull(d.status_date) OR toDate(a.last_seen) > assumeNotNull(d.status_date)))
   OR (d.person_id = '' AND ever.account != '')
ORDER BY a.last_seen DESC, account
