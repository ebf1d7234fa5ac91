//go:build !unix

package embedded

// lockDir does nothing where flock is missing: do not point two processes
// at one data directory there.
func lockDir(string) (func(), error) { return func() {}, nil }
