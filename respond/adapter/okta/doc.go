// Package okta suspends and unsuspends Okta users through the User
// Lifecycle API (POST /api/v1/users/{id}/lifecycle/suspend|unsuspend) and
// reads their status from the Users API, authenticating with an SSWS API
// token and honouring Okta's X-Rate-Limit-Reset header.
package okta
