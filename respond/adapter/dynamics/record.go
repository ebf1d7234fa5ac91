package dynamics

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/trailwatch/trailwatch/respond/adapter"
)

// Record reads and updates through the Web API, as "Query table definitions
// using the Web API", "Retrieve a table row using the Web API" and "Update
// and delete table rows using the Web API" document them:
//
//   - GET EntityDefinitions(LogicalName='account')?$select=LogicalName,
//     EntitySetName,PrimaryIdAttribute&$expand=Attributes($select=
//     LogicalName,AttributeType,IsValidForUpdate) names the table's entity
//     set (accounts) and types its columns;
//   - GET accounts(<guid>)?$select=a,b answers the columns (null when empty)
//     and the row's @odata.etag; a lookup column is selected and returned as
//     its _<name>_value property;
//   - PATCH accounts(<guid>) with a JSON object updates the columns and
//     answers 204 No Content. PATCH on a key is an upsert, so every update
//     carries If-Match: the ETag read just before (412 Precondition Failed
//     when the row changed since), or * (404 when the row does not exist).
//
// Names are checked before they reach a URL: logical names are lower-case
// letters, digits and underscores, row ids GUIDs.

// Column is one column of a table definition.
type Column struct {
	LogicalName string
	// Type is the AttributeType: String, Memo, Integer, BigInt, Decimal,
	// Double, Money, Boolean, Picklist, State, Status, DateTime, Lookup,
	// Customer, Owner, Uniqueidentifier, EntityName, Virtual, …
	Type string
	// Updatable is IsValidForUpdate.
	Updatable bool
}

// IsLookup reports whether the column holds a reference to another row
// (Lookup, Customer, Owner): it is read as _<name>_value and can only be
// written with <navigation property>@odata.bind.
func (c Column) IsLookup() bool {
	return c.Type == "Lookup" || c.Type == "Customer" || c.Type == "Owner"
}

// Property is the name the Web API reads the column under: _<name>_value
// for a lookup, the logical name otherwise.
func (c Column) Property() string {
	if c.IsLookup() {
		return "_" + c.LogicalName + "_value"
	}
	return c.LogicalName
}

// Table is a table definition.
type Table struct {
	LogicalName   string // account
	EntitySetName string // accounts: the Web API resource path
	PrimaryID     string // accountid
	Columns       map[string]Column
}

// Row is the columns of one row as the Web API answered them.
type Row struct {
	ETag   string                     // @odata.etag, e.g. W/"1234567"
	Values map[string]json.RawMessage // by property name; JSON null when empty
}

var (
	logicalName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,127}$`)
	entitySet   = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,127}$`)
	property    = regexp.MustCompile(`^_?[a-z][a-z0-9_]{0,127}$`)
)

type tableCache struct {
	mu     sync.Mutex
	tables map[string]Table
}

func (c *Client) invalid(op, msg string) error {
	return &adapter.Error{Vendor: vendorName, Op: op, Kind: adapter.KindInvalid, Message: msg}
}

// Table reads a table definition by logical name (contact, account,
// new_project) once per client; later calls answer from memory.
func (c *Client) Table(ctx context.Context, name string) (Table, error) {
	if !logicalName.MatchString(name) {
		return Table{}, c.invalid("table", fmt.Sprintf("%q is not a table logical name (lower-case letters, digits, _)", name))
	}
	c.tables.mu.Lock()
	t, ok := c.tables.tables[name]
	c.tables.mu.Unlock()
	if ok {
		return t, nil
	}
	res, err := c.caller.Do(ctx, adapter.Request{
		Op: "table", Method: http.MethodGet,
		URL: c.api + "/EntityDefinitions(LogicalName='" + name + "')?$select=LogicalName,EntitySetName,PrimaryIdAttribute" +
			"&$expand=Attributes($select=LogicalName,AttributeType,IsValidForUpdate)",
		Header: odata(),
	})
	if err != nil {
		return Table{}, err
	}
	var body struct {
		LogicalName   string `json:"LogicalName"`
		EntitySetName string `json:"EntitySetName"`
		PrimaryID     string `json:"PrimaryIdAttribute"`
		Attributes    []struct {
			LogicalName      string `json:"LogicalName"`
			AttributeType    string `json:"AttributeType"`
			IsValidForUpdate *bool  `json:"IsValidForUpdate"`
		} `json:"Attributes"`
	}
	if err := json.Unmarshal(res.Body, &body); err != nil || !entitySet.MatchString(body.EntitySetName) {
		return Table{}, &adapter.Error{Vendor: vendorName, Op: "table", Kind: adapter.KindRetryable, Status: res.Status,
			Message: "table definition of " + name + " has no valid EntitySetName", Err: err}
	}
	t = Table{LogicalName: name, EntitySetName: body.EntitySetName, PrimaryID: body.PrimaryID, Columns: map[string]Column{}}
	for _, a := range body.Attributes {
		t.Columns[a.LogicalName] = Column{LogicalName: a.LogicalName, Type: a.AttributeType,
			Updatable: a.IsValidForUpdate != nil && *a.IsValidForUpdate}
	}
	c.tables.mu.Lock()
	if c.tables.tables == nil {
		c.tables.tables = map[string]Table{}
	}
	c.tables.tables[name] = t
	c.tables.mu.Unlock()
	return t, nil
}

func (c *Client) rowPath(op, set, id string, props []string) (string, error) {
	if !entitySet.MatchString(set) {
		return "", c.invalid(op, fmt.Sprintf("%q is not an entity set name", set))
	}
	if !guid.MatchString(id) {
		return "", c.invalid(op, fmt.Sprintf("%q is not a Dataverse row id (a GUID)", id))
	}
	if len(props) == 0 {
		return "", c.invalid(op, "no columns")
	}
	for _, p := range props {
		if !property.MatchString(p) {
			return "", c.invalid(op, fmt.Sprintf("%q is not a column logical name", p))
		}
	}
	return c.api + "/" + set + "(" + strings.ToLower(id) + ")", nil
}

// Row reads properties of one row of the entity set: logical names, and
// _<name>_value for lookups.
func (c *Client) Row(ctx context.Context, set, id string, props []string) (Row, error) {
	u, err := c.rowPath("read_record", set, id, props)
	if err != nil {
		return Row{}, err
	}
	res, err := c.caller.Do(ctx, adapter.Request{Op: "read_record", Method: http.MethodGet,
		URL: u + "?$select=" + strings.Join(props, ","), Header: odata()})
	if err != nil {
		return Row{}, err
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(res.Body, &raw); err != nil {
		return Row{}, &adapter.Error{Vendor: vendorName, Op: "read_record", Kind: adapter.KindRetryable,
			Status: res.Status, Message: "row response is not a JSON object", Err: err}
	}
	r := Row{Values: make(map[string]json.RawMessage, len(props))}
	if tag, ok := raw["@odata.etag"]; ok {
		json.Unmarshal(tag, &r.ETag) // a missing or odd ETag only means If-Match: *
	}
	for _, p := range props {
		v, ok := raw[p]
		if !ok {
			v = json.RawMessage("null")
		}
		r.Values[p] = v
	}
	return r, nil
}

// UpdateRow sets columns of one row in one PATCH; JSON null clears a
// column. etag is the row's @odata.etag as last read: the update is made
// only if the row is unchanged since (412 otherwise); empty sends
// If-Match: *, which still never creates a row. Lookup properties
// (_<name>_value) and annotations (…@odata.bind) are refused: a lookup is
// written through its navigation property, which names the target entity
// set, and this client does not guess it.
func (c *Client) UpdateRow(ctx context.Context, set, id, etag string, values map[string]json.RawMessage) error {
	props := make([]string, 0, len(values))
	for p := range values {
		if strings.Contains(p, "@") || strings.HasPrefix(p, "_") && strings.HasSuffix(p, "_value") {
			return c.invalid("update_record", fmt.Sprintf("%q is a lookup; it can only be written with <navigation property>@odata.bind, which record updates do not do", p))
		}
		props = append(props, p)
	}
	sort.Strings(props)
	u, err := c.rowPath("update_record", set, id, props)
	if err != nil {
		return err
	}
	body, err := json.Marshal(values)
	if err != nil {
		return fmt.Errorf("encoding the update of %s(%s): %w", set, id, err)
	}
	h := odata()
	h.Set("Content-Type", "application/json")
	if etag == "" {
		etag = "*"
	}
	h.Set("If-Match", etag)
	_, err = c.caller.Do(ctx, adapter.Request{Op: "update_record", Method: http.MethodPatch, URL: u, Body: body, Header: h})
	return err
}
