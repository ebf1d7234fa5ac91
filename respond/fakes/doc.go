// Package fakes holds in-process stand-ins for the vendor APIs the
// responder calls (Salesforce, Okta, Microsoft Graph and its token
// endpoint, Dataverse, PagerDuty, Slack, a webhook receiver, an SMTP
// server). Each behaves as the vendor documents it (status codes, error
// bodies, rate-limit headers, token expiry), records exactly which requests
// arrived, and takes injected faults (429 with retry headers, 5xx, hangs
// that outlast the caller's timeout), so adapter tests and the end-to-end
// pipeline test can assert "exactly one freeze for that user".
//
// They are test infrastructure: they listen on loopback only and keep
// everything in memory.
package fakes
