// Package poll holds the pull collectors: pollers that page through a
// vendor's audit API from a stored cursor and publish what they read
// through ingest.Publisher.
//
//   - Salesforce Event Log Files (vendor salesforce-elf): EventLogFile
//     records are queried by CreatedDate (Salesforce's advice for hourly
//     files, which can be created hours after their LogDate, and again for
//     an hour whose events arrived late), filtered by Interval and
//     EventType; each file's CSV is downloaded and its rows normalised.
//   - HubSpot account audit logs (vendor hubspot-audit): the
//     account-info/v3 audit-logs endpoint, read in time windows that end a
//     settle delay before now, each paged with its `after` cursors.
//
// Each cursor is saved in a checkpoint (ingest/checkpoint) only after Kafka
// acknowledged everything before it: within a Salesforce file the rows
// published, within a HubSpot window the page's after cursor. A poller
// restarted after a clean stop resumes with no gap and no duplicate; after
// a crash it may send again the last batch, which ids deduplicate.
//
// Both speak OAuth 2 (refresh-token or client-credentials grants, or a
// fixed token): a token is refreshed before its announced expiry and when
// the API says it expired. Both back off on rate limits as the vendor's
// headers say (HubSpot's X-HubSpot-RateLimit-* and Retry-After;
// Salesforce's REQUEST_LIMIT_EXCEEDED, and its Sforce-Limit-Info usage, on
// which the poller pauses before the org's API limit is spent).
package poll
