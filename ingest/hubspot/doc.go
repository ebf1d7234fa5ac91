// Package hubspot normalises HubSpot's account activity API (account-info
// v3: audit-logs, login and security activity) into canonical events. One
// input record is one element of the endpoint's results[] array.
package hubspot
