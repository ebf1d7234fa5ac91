// Package webhook is the generic adapter for in-house systems: it POSTs a
// JSON body naming the operation (freeze, unfreeze, status, notify) and
// signs it with HMAC-SHA256 over the timestamp and the body, so the
// receiver can prove the request came from Trailwatch and is fresh. Verify
// is the receiver's side of that check, in Go; docs/RESPONSE.md states the
// scheme for receivers in other languages.
package webhook
