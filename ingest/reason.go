package ingest

import (
	"errors"

	"github.com/trailwatch/trailwatch/ingest/record"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// Reasons a record is rejected for, besides the event.Kind values of the
// contract's rules (syntax, type, required, time_window, …). Together they
// are a small fixed set: safe as a metric label.
const (
	// ReasonTenant: a canonical event of another tenant than its source's.
	ReasonTenant = "tenant"
	// ReasonNormalize: a vendor record its normaliser could not map.
	ReasonNormalize = "normalize"
	// ReasonMalformed: a record that could not be cut from its input (a line
	// over the limit, a CSV row with a stray quote).
	ReasonMalformed = "malformed"
	// ReasonDuplicateID: a second event with an id already in its batch but
	// different content (see httpin).
	ReasonDuplicateID = "duplicate_id"
)

// Malformed marks err as input that could not be cut into records (a body
// that is not JSON, a CSV file without a header): Reason says
// ReasonMalformed.
func Malformed(err error) error { return &malformedError{err} }

type malformedError struct{ err error }

func (e *malformedError) Error() string { return e.err.Error() }
func (e *malformedError) Unwrap() error { return e.err }

// Reason classifies a rejection: the Kind of a contract violation, or one
// of the Reason constants.
func Reason(err error) string {
	var ve *event.ValidationError
	var te *TenantError
	var le *record.LineError
	var de *duplicateError
	var me *malformedError
	switch {
	case errors.As(err, &me):
		return ReasonMalformed
	case errors.As(err, &ve):
		return string(ve.Kind)
	case errors.As(err, &te):
		return ReasonTenant
	case errors.As(err, &le):
		return ReasonMalformed
	case errors.As(err, &de):
		return ReasonDuplicateID
	}
	return ReasonNormalize
}

// Field is the field path a rejection blames, when it names one.
func Field(err error) string {
	var ve *event.ValidationError
	var te *TenantError
	var de *duplicateError
	switch {
	case errors.As(err, &ve):
		return ve.Path
	case errors.As(err, &te):
		return "tenant"
	case errors.As(err, &de):
		return "id"
	}
	return ""
}
