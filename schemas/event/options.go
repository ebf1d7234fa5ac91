package event

import "time"

// The contract's default limits (shared/contracts/event.md, "Limits").
const (
	DefaultMaxBytes   = 64 << 10           // one encoded event
	DefaultMaxChanges = 1000               // entries in changes
	DefaultMaxLabels  = 256                // keys in labels
	DefaultMaxFuture  = 10 * time.Minute   // how far ahead of the clock a timestamp may be
	DefaultMaxAge     = 7 * 24 * time.Hour // how far behind the clock, on the live path
	MaxIDLength       = 128                // characters (Unicode code points) in id
)

// Options are the configurable limits and the clock the decoder and Validate
// check an event against. Start from DefaultOptions: in a literal, a zero
// MaxBytes, MaxChanges, MaxLabels or MaxFuture means the contract's default,
// but a zero MaxAge means any age.
type Options struct {
	// MaxBytes is the largest encoded event accepted.
	MaxBytes int
	// MaxChanges is the most entries changes may have.
	MaxChanges int
	// MaxLabels is the most keys labels may have.
	MaxLabels int
	// Now is the ingest clock the timestamp window is measured from. The zero
	// value means the wall clock, read once per call.
	Now time.Time
	// MaxFuture is how far after Now a timestamp may be.
	MaxFuture time.Duration
	// MaxAge is how far before Now a timestamp may be on the live path. Zero
	// accepts any age: the replay and backfill path.
	MaxAge time.Duration
	// ResolveTimezone makes user.timezone load with time.LoadLocation (loaded
	// zones are cached); a name that does not load is rejected. Without it
	// only the name's shape is checked, as the JSON Schema does.
	ResolveTimezone bool
}

// DefaultOptions are the contract's defaults for the live path: 64 KiB,
// 1,000 changes, 256 labels, 10 minutes ahead and 7 days behind the wall
// clock, and user.timezone resolved.
func DefaultOptions() Options {
	return Options{
		MaxBytes:        DefaultMaxBytes,
		MaxChanges:      DefaultMaxChanges,
		MaxLabels:       DefaultMaxLabels,
		MaxFuture:       DefaultMaxFuture,
		MaxAge:          DefaultMaxAge,
		ResolveTimezone: true,
	}
}

// limits returns the options with zero limits replaced by the defaults and
// the clock read if none was given.
func (o Options) limits() Options {
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.MaxChanges <= 0 {
		o.MaxChanges = DefaultMaxChanges
	}
	if o.MaxLabels <= 0 {
		o.MaxLabels = DefaultMaxLabels
	}
	if o.MaxFuture <= 0 {
		o.MaxFuture = DefaultMaxFuture
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	return o
}
