// Package tracking decides, per tenant and source, what of the audit trail
// is kept: a level (basic: authentication, sessions, permissions,
// configuration and integrations; standard: + record changes and exports;
// advanced: + every view, search and report run), objects included or
// excluded, fields excluded, and sensitive fields stored masked (the last
// characters kept, or an HMAC so equal values still match). The sink
// applies it before it builds rows and counts every drop by reason.
package tracking
