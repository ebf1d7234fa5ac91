// Package adapter is what every vendor adapter of the responder shares:
// classified errors (retryable or permanent, with the vendor's own text),
// Retry-After and rate-limit header parsing, secrets read from files or the
// environment, an HTTP caller with per-call timeouts and one token refresh
// on 401, the OAuth 2.0 client-credentials grant, and the Notification the
// notifier adapters send.
package adapter
