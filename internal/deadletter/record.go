package deadletter

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Version is the version of the record shape written by this package.
const Version = 1

// MaxRaw is the most input bytes a record carries; the rest is cut (see
// the package documentation). 512 KiB, base64-encoded, still fits in the
// producer's default 1 MiB batch.
const MaxRaw = 512 << 10

// Reject is what a stage hands the Writer: the input it refused and why.
type Reject struct {
	Raw        []byte    // the input, as received
	Key        []byte    // the rejected Kafka message's key, if the input was one
	Reason     string    // why, for a person: "timestamp: no UTC offset"
	Field      string    // JSON path of the field to blame, if one is
	Origin     Origin    // where the input came from
	ReceivedAt time.Time // when the stage received it; zero means now
}

// Origin says where a rejected input came from. Fields that do not apply
// stay empty.
type Origin struct {
	Source    string `json:"source,omitempty"`
	Collector string `json:"collector,omitempty"`
	Tenant    string `json:"tenant,omitempty"`
	File      string `json:"file,omitempty"`
	Line      int    `json:"line,omitempty"`
	Topic     string `json:"topic,omitempty"`
	Partition *int   `json:"partition,omitempty"`
	Offset    *int64 `json:"offset,omitempty"`
}

// FromKafka is the origin of a message read from Kafka.
func FromKafka(topic string, partition int, offset int64) Origin {
	return Origin{Collector: "kafka", Topic: topic, Partition: &partition, Offset: &offset}
}

// FromFile is the origin of a line read from a file.
func FromFile(source, path string, line int) Origin {
	return Origin{Source: source, Collector: "file", File: path, Line: line}
}

// Record is a dead-letter record as it is written to Kafka.
type Record struct {
	V            int       `json:"v"`
	Stage        string    `json:"stage"`
	Reason       string    `json:"reason"`
	Field        string    `json:"field,omitempty"`
	Raw          *string   `json:"raw,omitempty"`
	RawBase64    *string   `json:"raw_base64,omitempty"`
	RawSize      int       `json:"raw_size"`
	RawSHA256    string    `json:"raw_sha256"`
	RawTruncated bool      `json:"raw_truncated,omitempty"`
	Origin       Origin    `json:"origin"`
	ReceivedAt   time.Time `json:"received_at"`
}

// NewRecord builds the record for r as stage rejects it, with at most
// maxRaw bytes of input. now fills a zero r.ReceivedAt.
func NewRecord(stage string, r Reject, maxRaw int, now time.Time) Record {
	at := r.ReceivedAt
	if at.IsZero() {
		at = now
	}
	sum := sha256.Sum256(r.Raw)
	// JSON strings are UTF-8; encoding/json would replace invalid bytes
	// anyway, this makes it visible here. The input itself is kept intact.
	o := r.Origin
	o.Source, o.Collector, o.Tenant, o.File, o.Topic = validUTF8(o.Source), validUTF8(o.Collector), validUTF8(o.Tenant), validUTF8(o.File), validUTF8(o.Topic)
	rec := Record{
		V:          Version,
		Stage:      validUTF8(stage),
		Reason:     validUTF8(RedactReason(r.Reason)),
		Field:      validUTF8(r.Field),
		RawSize:    len(r.Raw),
		RawSHA256:  hex.EncodeToString(sum[:]),
		Origin:     o,
		ReceivedAt: at.UTC(),
	}
	raw := r.Raw
	if len(raw) > maxRaw {
		raw = raw[:maxRaw]
		rec.RawTruncated = true
	}
	if utf8.Valid(r.Raw) || (rec.RawTruncated && utf8.Valid(trimPartialRune(raw))) {
		s := string(trimPartialRune(raw))
		rec.Raw = &s
	} else {
		s := base64.StdEncoding.EncodeToString(raw)
		rec.RawBase64 = &s
	}
	return rec
}

func validUTF8(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }

// trimPartialRune drops an incomplete UTF-8 sequence at the end of b, left
// by a cut in the middle of a character.
func trimPartialRune(b []byte) []byte {
	for i := 1; i <= utf8.UTFMax && i <= len(b); i++ {
		if utf8.RuneStart(b[len(b)-i]) {
			if !utf8.FullRune(b[len(b)-i:]) {
				return b[:len(b)-i]
			}
			break
		}
	}
	return b
}

// Bytes returns the input the record carries (all of it unless
// RawTruncated).
func (r Record) Bytes() ([]byte, error) {
	switch {
	case r.Raw != nil && r.RawBase64 != nil:
		return nil, errors.New("dead-letter record has both raw and raw_base64")
	case r.Raw != nil:
		return []byte(*r.Raw), nil
	case r.RawBase64 != nil:
		b, err := base64.StdEncoding.DecodeString(*r.RawBase64)
		if err != nil {
			return nil, fmt.Errorf("dead-letter record raw_base64: %w", err)
		}
		return b, nil
	}
	return []byte{}, nil
}

// Decode parses a dead-letter record and checks its shape.
func Decode(b []byte) (Record, error) {
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		return Record{}, fmt.Errorf("decoding dead-letter record: %w", err)
	}
	var errs []error
	if r.V != Version {
		errs = append(errs, fmt.Errorf("v: %d is not version %d", r.V, Version))
	}
	if r.Stage == "" {
		errs = append(errs, errors.New("stage: required"))
	}
	if r.Reason == "" {
		errs = append(errs, errors.New("reason: required"))
	}
	if r.ReceivedAt.IsZero() {
		errs = append(errs, errors.New("received_at: required"))
	}
	raw, err := r.Bytes()
	if err != nil {
		errs = append(errs, err)
	} else if !r.RawTruncated {
		sum := sha256.Sum256(raw)
		if len(raw) != r.RawSize || hex.EncodeToString(sum[:]) != r.RawSHA256 {
			errs = append(errs, errors.New("raw: does not match raw_size and raw_sha256"))
		}
	} else if len(raw) > r.RawSize {
		errs = append(errs, errors.New("raw: longer than raw_size though truncated"))
	}
	if err := errors.Join(errs...); err != nil {
		return Record{}, fmt.Errorf("dead-letter record: %w", err)
	}
	return r, nil
}
