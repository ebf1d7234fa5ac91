// Package oncall is what on-call people use to drive the responder: list
// and show actions with their history, approve or reject an action that
// waits, undo a freeze. Service does it over a Source of action history
// (today KafkaSource, which reads the actions topic directly; a ClickHouse
// source once the sink stores the actions table) and a respond.Recorder
// that writes the human's record to the actions topic. API serves the same
// operations over authenticated HTTP (bearer token per approver), for the
// respond role.
package oncall
