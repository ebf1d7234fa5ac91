// Package dynamics365 normalises Microsoft Dataverse (Dynamics 365) audit
// records into canonical events: one element of value[] from the Web API
// audits entity set, requested with Prefer: odata.include-annotations="*",
// optionally with the AuditDetail that RetrieveAuditDetails returned for it
// attached under the key AuditDetail.
package dynamics365
