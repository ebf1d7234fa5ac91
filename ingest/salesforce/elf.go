package salesforce

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/trailwatch/trailwatch/ingest/record"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// Event Log File rows: one row of the CSV file of one event type, read by
// column name (Object Reference, "EventLogFile Supported Event Types").
//
// ELF rows have no id of their own (REQUEST_ID is shared by every event of a
// transaction), so the event id is a hash of the row's canonical bytes: the
// same row re-read from a re-downloaded file keeps its id. The prefix names
// the event type, so a Login row and the LoginEvent of the same login (two
// channels, two records) never share an id.
type elf struct {
	row    *record.Row
	ev     event.Event
	labels record.Labels
}

// startELF maps the columns every event type shares: EVENT_TYPE (checked),
// TIMESTAMP, the user, the session and the request id.
func startELF(row *record.Row, meta record.Meta, eventType string) (*elf, error) {
	if t, ok := row.Get("EVENT_TYPE"); ok && t != "" && t != eventType {
		return nil, fmt.Errorf("column EVENT_TYPE is %s, this format reads %s rows", record.Quote(t), eventType)
	}
	ts, err := elfTime(row)
	if err != nil {
		return nil, err
	}
	userID, err := elfUserID(row)
	if err != nil {
		return nil, err
	}
	id := record.HashID("sf-elf-"+strings.ToLower(eventType)+"-", row.CanonicalBytes())
	e := &elf{row: row, ev: newEvent(meta, id, "", ts), labels: record.Labels{}}
	e.ev.User.ID = userID
	e.ev.User.Name = row.Value("USER_NAME")
	e.ev.Client.SessionID = row.Value("SESSION_KEY")
	e.label("LOGIN_KEY", "login_key")
	e.label("REQUEST_ID", "request_id")
	e.label("ORGANIZATION_ID", "organization_id")
	e.label("USER_TYPE", "user_type")
	return e, nil
}

func (e *elf) label(column, name string) { e.labels.Set(labelPrefix+name, e.row.Value(column)) }

func (e *elf) finish() event.Event {
	e.ev.Labels = e.labels.Map()
	return e.ev
}

// elfTime reads TIMESTAMP (yyyyMMddHHmmss.SSS, GMT) or, when a file has only
// the derived column, TIMESTAMP_DERIVED (ISO 8601 with Z).
func elfTime(row *record.Row) (time.Time, error) {
	if v := row.Value("TIMESTAMP"); v != "" {
		t, err := ParseELFTimestamp(v)
		if err != nil {
			return time.Time{}, fmt.Errorf("column TIMESTAMP: %w", err)
		}
		return t, nil
	}
	if v := row.Value("TIMESTAMP_DERIVED"); v != "" {
		t, err := ParseTimeString(v)
		if err != nil {
			return time.Time{}, fmt.Errorf("column TIMESTAMP_DERIVED: %w", err)
		}
		return t, nil
	}
	if !row.Header().Has("TIMESTAMP") && !row.Header().Has("TIMESTAMP_DERIVED") {
		return time.Time{}, fmt.Errorf("missing column TIMESTAMP (or TIMESTAMP_DERIVED)")
	}
	return time.Time{}, fmt.Errorf("column TIMESTAMP is empty")
}

// elfUserID returns the 18-character user id: USER_ID_DERIVED when present,
// else USER_ID (15 characters) converted. When both are present they must
// name the same user.
func elfUserID(row *record.Row) (string, error) {
	derived, short := row.Value("USER_ID_DERIVED"), row.Value("USER_ID")
	var fromDerived, fromShort string
	var err error
	if derived != "" {
		if fromDerived, err = ID18(derived); err != nil {
			return "", fmt.Errorf("column USER_ID_DERIVED: %w", err)
		}
	}
	if short != "" {
		if fromShort, err = ID18(short); err != nil {
			return "", fmt.Errorf("column USER_ID: %w", err)
		}
	}
	switch {
	case fromDerived != "" && fromShort != "" && fromDerived != fromShort:
		return "", fmt.Errorf("columns USER_ID %s and USER_ID_DERIVED %s name different users", record.Quote(short), record.Quote(derived))
	case fromDerived != "":
		return fromDerived, nil
	case fromShort != "":
		return fromShort, nil
	case !row.Header().Has("USER_ID_DERIVED") && !row.Header().Has("USER_ID"):
		return "", fmt.Errorf("missing column USER_ID_DERIVED (or USER_ID)")
	case !row.Header().Has("USER_ID_DERIVED"):
		return "", fmt.Errorf("column USER_ID is empty")
	case row.Header().Has("USER_ID"):
		return "", fmt.Errorf("columns USER_ID_DERIVED and USER_ID are empty")
	}
	return "", fmt.Errorf("column USER_ID_DERIVED is empty")
}

// elfClientIP reads the first non-empty address among columns, skipping the
// "Salesforce.com IP" marker (kept as a label).
func (e *elf) clientIP(columns ...string) {
	for _, c := range columns {
		if ip := clientIP(e.row.Value(c), e.labels, strings.ToLower(c)); ip != "" {
			e.ev.Client.IP = ip
			return
		}
	}
}

// requestOutcome maps REQUEST_STATUS: S success, R redirect (served), F
// failure, A authorization error, N not found, U or blank unknown.
func (e *elf) requestOutcome() {
	status := e.row.Value("REQUEST_STATUS")
	e.labels.Set(labelPrefix+"request_status", status)
	switch status {
	case "S", "R":
		e.ev.Event.Outcome = "success"
	case "F":
		e.ev.Event.Outcome = "failure"
	case "A":
		e.ev.Event.Outcome, e.ev.Event.Reason = "failure", "not_authorized"
	case "N":
		e.ev.Event.Outcome, e.ev.Event.Reason = "failure", "not_found"
	default:
		e.ev.Event.Outcome = "unknown"
	}
}

// elfLoginTypes are the LOGIN_TYPE codes of the Login event type, as the
// LoginHistory.LoginType names RTEM LoginEvent uses.
var elfLoginTypes = map[string]string{
	"7": "AppExchange", "A": "Application", "s": "Certificate-based login",
	"k": "Chatter Communities External User", "n": "Chatter Communities External User Third Party SSO",
	"x": "Cross Tenant Login", "r": "Employee Login to Community", "z": "Lightning Login",
	"l": "Networks Portal API Only", "6": "Remote Access Client", "i": "Remote Access 2.0",
	"I": "Other Apex API", "R": "Partner Product", "w": "Passwordless Login", "3": "Customer Service Portal",
	"q": "Partner Portal Third-Party SSO", "9": "Partner Portal", "5": "SAML Idp Initiated SSO",
	"m": "SAML Chatter Communities External User SSO", "b": "SAML Customer Service Portal SSO",
	"c": "SAML Partner Portal SSO", "h": "SAML Site SSO", "8": "SAML Sfdc Initiated SSO",
	"E": "SelfService", "j": "Third Party SSO",
}

// elfAPITypes are the API_TYPE codes of the Login, Logout and API event types.
var elfAPITypes = map[string]string{
	"D": "Apex Class", "E": "SOAP Enterprise", "I": "SOAP Cross Instance", "M": "SOAP Metadata",
	"O": "Old SOAP", "P": "SOAP Partner", "S": "SOAP Apex", "T": "SOAP Tooling", "X": "XmlRPC",
	"f": "Feed", "l": "Live Agent", "p": "SOAP ClientSync",
}

// codeName is the documented name of a code, or the code itself.
func codeName(table map[string]string, code string) string {
	if n, ok := table[code]; ok {
		return n
	}
	return code
}

// ELFLogin maps one row of the Login event type. LOGIN_STATUS is
// LOGIN_NO_ERROR for a successful login and an error code otherwise.
func ELFLogin(row *record.Row, meta record.Meta) (event.Event, error) {
	e, err := startELF(row, meta, "Login")
	if err != nil {
		return event.Event{}, err
	}
	ev := &e.ev
	ev.Event.Category, ev.Event.Action = "authentication", "login"
	switch status := row.Value("LOGIN_STATUS"); status {
	case "":
		ev.Event.Outcome = "unknown"
	case "LOGIN_NO_ERROR":
		ev.Event.Outcome = "success"
	default:
		ev.Event.Outcome, ev.Event.Reason = "failure", loginReason(status)
	}
	e.clientIP("SOURCE_IP", "CLIENT_IP")
	ev.Client.UserAgent = row.Value("BROWSER_TYPE")
	ev.Client.Geo.Country = upperCountry(row.Value("COUNTRY_CODE"), e.labels, labelPrefix+"country_code")
	loginType := codeName(elfLoginTypes, row.Value("LOGIN_TYPE"))
	apiType := codeName(elfAPITypes, row.Value("API_TYPE"))
	ev.Client.AccessMethod = loginAccessMethod(apiType, "", loginType)
	e.labels.Set(labelPrefix+"login_type", loginType)
	e.labels.Set(labelPrefix+"api_type", apiType)
	e.label("LOGIN_STATUS", "login_status")
	e.label("LOGIN_SUB_TYPE", "login_sub_type")
	e.label("API_VERSION", "api_version")
	e.label("URI", "uri")
	e.label("LOGIN_URL", "login_url")
	e.label("TLS_PROTOCOL", "tls_protocol")
	e.label("CIPHER_SUITE", "cipher_suite")
	e.label("FORWARDED_FOR_IP", "forwarded_for_ip")
	e.label("AUTHENTICATION_SERVICE_ID", "auth_service_id")
	e.label("REQUEST_STATUS", "request_status")
	return e.finish(), nil
}

// ELFReportExport maps one row of the ReportExport event type: a report
// exported. The event type has no row count, so records is never set.
func ELFReportExport(row *record.Row, meta record.Meta) (event.Event, error) {
	e, err := startELF(row, meta, "ReportExport")
	if err != nil {
		return event.Event{}, err
	}
	ev := &e.ev
	ev.Event.Category, ev.Event.Action = "export", "export"
	e.clientIP("CLIENT_IP")
	ev.Client.UserAgent = row.Value("USER_AGENT")
	ev.Object.Type = "report"
	if id := row.Value("URI_ID_DERIVED"); id != "" {
		if ev.Object.ID, err = ID18(id); err != nil {
			return event.Event{}, fmt.Errorf("column URI_ID_DERIVED: %w", err)
		}
	}
	e.label("REPORT_DESCRIPTION", "report_description")
	e.label("CLIENT_INFO", "client_info")
	e.label("URI", "uri")
	return e.finish(), nil
}

// apiMethods maps the API event type's METHOD_NAME (the SOAP call) to
// canonical categories and actions; other calls (describeSObject, login,
// getUserInfo, …) are data_access/api_call with the method as a label.
var apiMethods = map[string]setupAction{
	"query": {"data_access", "query"}, "querymore": {"data_access", "query"}, "queryall": {"data_access", "query"},
	"retrieve": {"data_access", "view"}, "search": {"data_access", "search"},
	"create": {"data_change", "create"}, "update": {"data_change", "update"}, "upsert": {"data_change", "update"},
	"delete": {"data_change", "delete"}, "undelete": {"data_change", "restore"}, "merge": {"data_change", "merge"},
}

// ELFAPI maps one row of the API event type (SOAP API calls). ROWS_PROCESSED
// belongs to this one call, so it is records.
func ELFAPI(row *record.Row, meta record.Meta) (event.Event, error) {
	e, err := startELF(row, meta, "API")
	if err != nil {
		return event.Event{}, err
	}
	ev := &e.ev
	method := row.Value("METHOD_NAME")
	if m, ok := apiMethods[strings.ToLower(method)]; ok {
		ev.Event.Category, ev.Event.Action = m.category, m.action
	} else {
		ev.Event.Category, ev.Event.Action = "data_access", "api_call"
	}
	e.requestOutcome()
	e.clientIP("CLIENT_IP")
	ev.Client.UserAgent = row.Value("USER_AGENT")
	ev.Client.AccessMethod = "api"
	ev.Object.Type = entityType(row.Value("ENTITY_NAME"))
	if v := row.Value("ROWS_PROCESSED"); v != "" {
		n, err := record.ParseInteger(v)
		if err != nil || n < 0 {
			return event.Event{}, fmt.Errorf("column ROWS_PROCESSED: %s is not a row count", record.Quote(v))
		}
		ev.Records, ev.HasRecords = n, true
	}
	e.labels.Set(labelPrefix+"method", method)
	e.labels.Set(labelPrefix+"api_type", codeName(elfAPITypes, row.Value("API_TYPE")))
	e.label("ENTITY_NAME", "entity_name")
	e.label("API_VERSION", "api_version")
	e.label("CLIENT_NAME", "client_name")
	e.label("CONNECTED_APP_ID", "connected_app_id")
	e.label("QUERY_ID", "query_id")
	e.label("URI", "uri")
	return e.finish(), nil
}

// ELFURI maps one row of the URI event type: a page request in Salesforce
// Classic. URI_ID_DERIVED is the record the page shows; its key prefix gives
// the object type for standard objects.
func ELFURI(row *record.Row, meta record.Meta) (event.Event, error) {
	e, err := startELF(row, meta, "URI")
	if err != nil {
		return event.Event{}, err
	}
	ev := &e.ev
	ev.Event.Category, ev.Event.Action = "data_access", "view"
	e.requestOutcome()
	e.clientIP("CLIENT_IP")
	ev.Client.AccessMethod = "web"
	if id := row.Value("URI_ID_DERIVED"); id != "" {
		oid, err := ID18(id)
		if err != nil {
			return event.Event{}, fmt.Errorf("column URI_ID_DERIVED: %w", err)
		}
		ev.Object = event.Object{Type: ObjectType(oid), ID: oid}
	}
	e.label("URI", "uri")
	e.label("REFERRER_URI", "referrer_uri")
	if v := row.Value("RUN_TIME"); v != "" {
		if _, err := strconv.ParseFloat(v, 64); err == nil {
			e.labels.Set(labelPrefix+"run_time_ms", v)
		}
	}
	return e.finish(), nil
}
