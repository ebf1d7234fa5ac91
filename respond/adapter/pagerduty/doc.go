// Package pagerduty pages on-call through the PagerDuty Events API v2
// (POST /v2/enqueue) with the alert id as dedup_key, so an alert opens one
// PagerDuty alert however often it is re-sent, and a resolve closes it.
package pagerduty
