package event

import "time"

// Version is the contract version this package implements.
const Version = 1

// Event is one canonical CRM activity event. The json tags are the contract's
// field names; the expr tags are the names rule expressions use (the same
// ones, so `event.category` and `client.geo.country` read as in the contract).
//
// Optional numbers are values with a presence flag rather than pointers: rule
// expressions compare them directly (`records >= 200`), which a nil pointer
// would turn into a run-time error. The flags are not part of the JSON; the
// decoder sets them and the encoder honours them.
type Event struct {
	ID         string            `json:"id" expr:"id"`
	Timestamp  time.Time         `json:"timestamp" expr:"timestamp"`
	Tenant     string            `json:"tenant" expr:"tenant"`
	Source     Source            `json:"source" expr:"source"`
	Event      Activity          `json:"event" expr:"event"`
	User       User              `json:"user" expr:"user"`
	Client     Client            `json:"client" expr:"client"`
	Object     Object            `json:"object" expr:"object"`
	Changes    []Change          `json:"changes,omitempty" expr:"changes"`
	Records    int64             `json:"records" expr:"records"`
	HasRecords bool              `json:"-" expr:"has_records"`
	Comment    string            `json:"comment,omitempty" expr:"comment"`
	Related    []Related         `json:"related,omitempty" expr:"related"`
	TargetUser TargetUser        `json:"target_user" expr:"target_user"`
	Permission Permission        `json:"permission" expr:"permission"`
	Labels     map[string]string `json:"labels,omitempty" expr:"labels"`
}

// Source says which CRM, and which collector, an event came from.
type Source struct {
	System    string `json:"system" expr:"system"`
	ID        string `json:"id,omitempty" expr:"id"`
	Collector string `json:"collector,omitempty" expr:"collector"`
}

// Activity is the contract's `event` object: what kind of thing happened.
type Activity struct {
	Category string `json:"category" expr:"category"`
	Action   string `json:"action" expr:"action"`
	Outcome  string `json:"outcome" expr:"outcome"`
	Reason   string `json:"reason,omitempty" expr:"reason"`
}

// User is the acting account and, when resolved, the person behind it.
type User struct {
	ID         string `json:"id" expr:"id"`
	Name       string `json:"name,omitempty" expr:"name"`
	PersonID   string `json:"person_id,omitempty" expr:"person_id"`
	EmployeeID string `json:"employee_id,omitempty" expr:"employee_id"`
	Role       string `json:"role,omitempty" expr:"role"`
	Department string `json:"department,omitempty" expr:"department"`
	Type       string `json:"type,omitempty" expr:"type"`
	Timezone   string `json:"timezone,omitempty" expr:"timezone"`
}

// Client says where and how the action was made.
type Client struct {
	IP           string `json:"ip,omitempty" expr:"ip"`
	UserAgent    string `json:"user_agent,omitempty" expr:"user_agent"`
	DeviceID     string `json:"device_id,omitempty" expr:"device_id"`
	SessionID    string `json:"session_id,omitempty" expr:"session_id"`
	AccessMethod string `json:"access_method,omitempty" expr:"access_method"`
	Geo          Geo    `json:"geo" expr:"geo"`
}

// Geo is the client's location. Lat and Lon are meaningful only when
// HasCoords is set (0,0 is a real place, so zero cannot mean absent).
type Geo struct {
	Country   string  `json:"country,omitempty" expr:"country"`
	Region    string  `json:"region,omitempty" expr:"region"`
	City      string  `json:"city,omitempty" expr:"city"`
	Lat       float64 `json:"lat" expr:"lat"`
	Lon       float64 `json:"lon" expr:"lon"`
	HasCoords bool    `json:"-" expr:"has_coords"`
}

// Object is the record acted on.
type Object struct {
	Type    string `json:"type,omitempty" expr:"type"`
	ID      string `json:"id,omitempty" expr:"id"`
	Name    string `json:"name,omitempty" expr:"name"`
	OwnerID string `json:"owner_id,omitempty" expr:"owner_id"`
}

// Change is one field-level before/after value of a data change.
type Change struct {
	Field string `json:"field" expr:"field"`
	Old   string `json:"old" expr:"old"`
	New   string `json:"new" expr:"new"`
}

// Related is a record linked to the one acted on.
type Related struct {
	Type string `json:"type" expr:"type"`
	ID   string `json:"id" expr:"id"`
}

// TargetUser is the account whose access an administration event changed.
type TargetUser struct {
	ID   string `json:"id,omitempty" expr:"id"`
	Name string `json:"name,omitempty" expr:"name"`
}

// Permission is the role, permission set or OAuth scope granted or revoked.
type Permission struct {
	Name  string `json:"name,omitempty" expr:"name"`
	Scope string `json:"scope,omitempty" expr:"scope"`
}

// The closed sets of the contract.
var (
	// Categories are the values of event.category.
	Categories = []string{"authentication", "session", "data_access", "data_change", "export", "permission", "configuration", "integration"}
	// Outcomes are the values of event.outcome.
	Outcomes = []string{"success", "failure", "unknown"}
	// UserTypes are the values of user.type; an absent type means human.
	UserTypes = []string{"human", "integration", "system"}
	// AccessMethods are the values of client.access_method.
	AccessMethods = []string{"web", "api", "mobile", "bulk_api", "integration"}
)

// PersonKey is the key rules about a person group by: the resolved person id,
// or the account id when the directory did not resolve one.
func (e *Event) PersonKey() string {
	if e.User.PersonID != "" {
		return e.User.PersonID
	}
	return e.User.ID
}
