// Package respond executes the actions the detector requests (account
// freezes, notifications) exactly once in effect, with dry-run and approval
// modes and safety limits.
package respond
