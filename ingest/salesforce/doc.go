// Package salesforce normalises Salesforce audit records into canonical
// events: Real-Time Event Monitoring objects (LoginEvent, LogoutEvent,
// ReportEvent, ListViewEvent, ApiEvent, LoginAsEvent from REST queries;
// BulkApiResultEvent from the Streaming API; PermissionSetEvent from the
// Pub/Sub API), SetupAuditTrail rows, and Event Log File CSV rows (Login,
// ReportExport, API, URI). Field meanings follow Salesforce's Platform Events
// Developer Guide and Object Reference; docs/INGEST.md has the tables.
package salesforce
