package chserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/trailwatch/trailwatch/internal/chdb"
)

// exception is an error as ClickHouse reports it: a code and a message.
type exception struct {
	code int
	name string
	msg  string // without the "Code: N. DB::Exception: " prefix and the "(NAME)" suffix
	// unauthorized answers 401 instead of the code's usual status: a
	// credential the server does not take at all, not a wrong one.
	unauthorized bool
}

func (e *exception) Error() string {
	return fmt.Sprintf("Code: %d. DB::Exception: %s. (%s)", e.code, e.msg, e.name)
}

// codes maps error names to the engine's codes and back; read from the
// engine at start (errorCodeToName), so they are this version's own.
type codes struct {
	byName map[string]int
	byCode map[int]string
}

// names the server raises itself; every one is checked at start.
var ownNames = []string{
	"AUTHENTICATION_FAILED", "REQUIRED_PASSWORD", "ACCESS_DENIED", "READONLY",
	"SYNTAX_ERROR", "TOO_MANY_SIMULTANEOUS_QUERIES", "QUERY_WAS_CANCELLED",
	"UNKNOWN_SETTING", "CANNOT_READ_ALL_DATA", "BAD_ARGUMENTS", "QUERY_IS_TOO_LARGE",
	"UNKNOWN_COMPRESSION_METHOD", "CANNOT_DECOMPRESS", "NOT_IMPLEMENTED", "UNKNOWN_DATABASE",
	"TIMEOUT_EXCEEDED", "SETTING_CONSTRAINT_VIOLATION",
}

func (c *codes) raise(name, format string, args ...any) *exception {
	return &exception{code: c.byName[name], name: name, msg: fmt.Sprintf(format, args...)}
}

var engineErrRE = regexp.MustCompile(`^(?:Code: (\d+)\. DB::Exception: )+`)
var nameSuffixRE = regexp.MustCompile(`\. \(([A-Z_0-9]+)\)(?: \(version [^)]*\))?\.? \(([A-Z_0-9]+)\)$|\. \(([A-Z_0-9]+)\)(?: \(version [^)]*\))?$`)

// fromEngine turns an engine error into an exception. The library
// sometimes doubles the "Code: N. DB::Exception:" prefix; it is undone.
func (c *codes) fromEngine(err *chdb.Error) *exception {
	msg := err.Message
	code := err.Code
	if m := engineErrRE.FindStringSubmatch(msg); m != nil {
		msg = msg[len(m[0]):]
		if n, convErr := strconv.Atoi(m[1]); convErr == nil {
			code = n
		}
	}
	name := c.byCode[code]
	if m := nameSuffixRE.FindStringSubmatchIndex(msg); m != nil {
		msg = msg[:m[0]]
	}
	msg = strings.TrimSuffix(msg, ".")
	if name == "" {
		name = "UNKNOWN_EXCEPTION"
	}
	return &exception{code: code, name: name, msg: msg}
}

// asException classifies any error from serving a request.
func (c *codes) asException(err error) *exception {
	var ex *exception
	var ce *chdb.Error
	var se *syntaxError
	switch {
	case errors.As(err, &ex):
		return ex
	case errors.As(err, &ce):
		return c.fromEngine(ce)
	case errors.As(err, &se):
		return c.raise("SYNTAX_ERROR", "%s", se.Error())
	case errors.Is(err, errQueueFull):
		return c.raise("TOO_MANY_SIMULTANEOUS_QUERIES", "Too many simultaneous queries: the embedded engine runs one statement at a time and the queue is full; retry later")
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return c.raise("QUERY_WAS_CANCELLED", "Query was cancelled: %v", err)
	default:
		return &exception{code: 1000, name: "POCO_EXCEPTION", msg: err.Error()}
	}
}

// statusFor is the HTTP status a ClickHouse server gives an error code
// (src/Server/HTTP/exceptionCodeToHTTPStatus.cpp), by name. A full queue is
// 503, as the issue of overload asks clients to retry.
var statusByName = func() map[string]int {
	m := map[string]int{
		"REQUIRED_PASSWORD":             http.StatusUnauthorized,
		"TOO_MANY_SIMULTANEOUS_QUERIES": http.StatusServiceUnavailable,
		"QUERY_IS_TOO_LARGE":            http.StatusRequestEntityTooLarge,
		"NOT_IMPLEMENTED":               http.StatusNotImplemented,
		"SOCKET_TIMEOUT":                http.StatusServiceUnavailable,
		"CANNOT_OPEN_FILE":              http.StatusServiceUnavailable,
		"CANNOT_SCHEDULE_TASK":          http.StatusServiceUnavailable,
		"HTTP_LENGTH_REQUIRED":          http.StatusLengthRequired,
		"TIMEOUT_EXCEEDED":              http.StatusRequestTimeout,
		"UNSUPPORTED_MEDIA_TYPE":        http.StatusUnsupportedMediaType,
	}
	for _, n := range []string{"UNKNOWN_USER", "WRONG_PASSWORD", "AUTHENTICATION_FAILED", "SET_NON_GRANTED_ROLE", "ACCESS_DENIED"} {
		m[n] = http.StatusForbidden
	}
	for _, n := range []string{"BAD_ARGUMENTS", "CANNOT_COMPILE_REGEXP", "CANNOT_PARSE_TEXT", "CANNOT_PARSE_ESCAPE_SEQUENCE",
		"CANNOT_PARSE_QUOTED_STRING", "CANNOT_PARSE_DATE", "CANNOT_PARSE_DATETIME", "CANNOT_PARSE_NUMBER",
		"CANNOT_PARSE_DOMAIN_VALUE_FROM_STRING", "CANNOT_PARSE_IPV4", "CANNOT_PARSE_IPV6", "CANNOT_PARSE_INPUT_ASSERTION_FAILED",
		"CANNOT_PARSE_UUID", "DUPLICATE_COLUMN", "ILLEGAL_COLUMN", "UNKNOWN_ELEMENT_IN_AST", "UNKNOWN_TYPE_OF_AST_NODE",
		"THERE_IS_NO_COLUMN", "TOO_DEEP_AST", "TOO_BIG_AST", "UNEXPECTED_AST_STRUCTURE", "SYNTAX_ERROR",
		"INCORRECT_DATA", "TYPE_MISMATCH", "VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE"} {
		m[n] = http.StatusBadRequest
	}
	for _, n := range []string{"UNKNOWN_TABLE", "UNKNOWN_FUNCTION", "UNKNOWN_IDENTIFIER", "UNKNOWN_TYPE", "UNKNOWN_STORAGE",
		"UNKNOWN_DATABASE", "UNKNOWN_SETTING", "UNKNOWN_DIRECTION_OF_SORTING", "UNKNOWN_AGGREGATE_FUNCTION",
		"UNKNOWN_FORMAT", "UNKNOWN_DATABASE_ENGINE", "UNKNOWN_TYPE_OF_QUERY", "UNKNOWN_ROLE"} {
		m[n] = http.StatusNotFound
	}
	return m
}()

func statusFor(name string) int {
	if s, ok := statusByName[name]; ok {
		return s
	}
	return http.StatusInternalServerError
}
