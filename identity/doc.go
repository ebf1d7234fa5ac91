// Package identity knows who is behind an account: it reads directory
// snapshots (CSV, JSON and SCIM 2.0 exports, docs/IDENTITY.md), validates
// them listing every problem, resolves events' accounts to people in
// memory (Resolver, swapped atomically when a new snapshot lands), diffs
// snapshots into joiner, leaver and move events, and stores snapshots with
// their history in ClickHouse.
package identity
