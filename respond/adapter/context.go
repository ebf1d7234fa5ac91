package adapter

import "context"

type actionIDKey struct{}

// WithActionID carries the id of the action a vendor call serves, so an
// adapter whose receiver deduplicates (the generic webhook) can send it as
// an idempotency key.
func WithActionID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, actionIDKey{}, id)
}

// ActionID is the action id WithActionID attached, or "".
func ActionID(ctx context.Context) string {
	id, _ := ctx.Value(actionIDKey{}).(string)
	return id
}
