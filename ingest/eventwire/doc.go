// Package eventwire encodes and checks canonical events for ingest until the
// validating encoder and decoder of schemas/event (event.AppendJSON,
// event.Validate) are merged; then each call site swaps in one line.
//
// Encoding honours the presence flags of event.Event: `records` is written
// only when HasRecords is set and `client.geo.lat`/`lon` only when HasCoords
// is, so an event never claims "0 records" or a position at 0,0 that its
// source did not state. Empty optional objects are left out.
package eventwire
