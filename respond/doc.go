// Package respond executes the actions the detector requests (account
// freezes, notifications, webhooks) exactly once in effect, with dry-run
// and approval modes and safety limits: Policy decides what may happen
// (modes, protected accounts, the per-tenant circuit breaker), PlanFor
// reads an action's history of status records (new, re-delivered, or
// interrupted mid-call), and Executor records an executing intent before
// any vendor call and the result after it, retrying with backoff. The
// Kafka loop around it lives in the wiring; docs/RESPONSE.md describes the
// protocol.
package respond
