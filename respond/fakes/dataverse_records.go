package fakes

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
)

// DataverseColumn is one column of a stand-in table.
type DataverseColumn struct {
	Name     string // logical name
	Type     string // AttributeType: String, Integer, Money, Lookup, …
	ReadOnly bool   // IsValidForUpdate false
}

type dvTable struct {
	logical, set string
	columns      map[string]DataverseColumn
	rows         map[string]*dvRow
}

type dvRow struct {
	version int
	values  map[string]json.RawMessage // by property: logical name, _<name>_value for lookups
}

// AddTable defines a table: its logical name (contact), its entity set
// (contacts) and its columns. The primary key column <logical>id is added.
func (f *Dataverse) AddTable(logical, set string, columns ...DataverseColumn) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := &dvTable{logical: logical, set: set, columns: map[string]DataverseColumn{}, rows: map[string]*dvRow{}}
	t.columns[logical+"id"] = DataverseColumn{Name: logical + "id", Type: "Uniqueidentifier", ReadOnly: true}
	for _, c := range columns {
		t.columns[c.Name] = c
	}
	if f.tables == nil {
		f.tables = map[string]*dvTable{}
	}
	f.tables[logical] = t
}

// SetRow creates the row, or changes its columns as a user in the CRM
// would (a new version): values by property name, encoded as JSON (use
// json.Number for a number in a given form, nil for null).
func (f *Dataverse) SetRow(logical, id string, values map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.tables[logical]
	r := t.rows[id]
	if r == nil {
		r = &dvRow{values: map[string]json.RawMessage{}}
		t.rows[id] = r
	}
	for k, v := range values {
		b, err := json.Marshal(v)
		if err != nil {
			panic(err)
		}
		r.values[k] = b
	}
	r.version++
}

// RowValue is a column of a row as JSON text ("null" when empty or when
// the row does not exist).
func (f *Dataverse) RowValue(logical, id, prop string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t := f.tables[logical]; t != nil {
		if r := t.rows[id]; r != nil && r.values[prop] != nil {
			return string(r.values[prop])
		}
	}
	return "null"
}

// HasRow reports whether the row exists.
func (f *Dataverse) HasRow(logical, id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.tables[logical]
	return t != nil && t.rows[id] != nil
}

var (
	dvDefinition = regexp.MustCompile(`^EntityDefinitions\(LogicalName='([^']*)'\)$`)
	dvRowKey     = regexp.MustCompile(`^([A-Za-z_]+)\(([0-9a-fA-F-]{36})\)$`)
)

// records answers table definitions and rows of the tables added; it
// reports false for anything else (systemusers). Called with f.mu held.
func (f *Dataverse) records(w http.ResponseWriter, r *http.Request) bool {
	seg := r.PathValue("entity")
	if m := dvDefinition.FindStringSubmatch(seg); m != nil {
		if !f.check(r) {
			dvError(w, 401, "0x80072182", "Bearer token is expired or invalid.")
			return true
		}
		f.definition(w, r, m[1])
		return true
	}
	m := dvRowKey.FindStringSubmatch(seg)
	if m == nil || m[1] == "systemusers" {
		return false
	}
	if !f.check(r) {
		dvError(w, 401, "0x80072182", "Bearer token is expired or invalid.")
		return true
	}
	var t *dvTable
	for _, tt := range f.tables {
		if tt.set == m[1] {
			t = tt
		}
	}
	if t == nil {
		dvError(w, 404, "0x80060888", "Resource not found for the segment '"+m[1]+"'.")
		return true
	}
	id := strings.ToLower(m[2])
	if r.Method == http.MethodGet {
		f.readRow(w, r, t, id)
	} else {
		f.updateRow(w, r, t, id)
	}
	return true
}

func (f *Dataverse) definition(w http.ResponseWriter, r *http.Request, logical string) {
	t := f.tables[logical]
	if t == nil {
		dvError(w, 404, "0x80040217", fmt.Sprintf("Could not find an entity with name %s", logical))
		return
	}
	body := map[string]any{"@odata.context": f.URL() + "/api/data/v9.2/$metadata#EntityDefinitions(LogicalName,EntitySetName,PrimaryIdAttribute,Attributes(LogicalName,AttributeType,IsValidForUpdate))/$entity",
		"LogicalName": t.logical, "EntitySetName": t.set, "PrimaryIdAttribute": t.logical + "id", "MetadataId": "70816501-edb9-4740-a16c-6a5efbc05d84"}
	if strings.Contains(r.URL.Query().Get("$expand"), "Attributes") {
		var attrs []map[string]any
		for _, c := range t.columns {
			attrs = append(attrs, map[string]any{"@odata.type": "#Microsoft.Dynamics.CRM." + c.Type + "AttributeMetadata",
				"LogicalName": c.Name, "AttributeType": c.Type, "IsValidForUpdate": !c.ReadOnly, "MetadataId": "f8cd5db9-cee8-4845-8cdd-cd4f504957e7"})
		}
		slices.SortFunc(attrs, func(a, b map[string]any) int {
			return strings.Compare(a["LogicalName"].(string), b["LogicalName"].(string))
		})
		body["Attributes"] = attrs
	}
	writeJSON(w, 200, body)
}

// property is the Web API property of a column.
func (t *dvTable) property(name string) (DataverseColumn, bool) {
	if inner, ok := strings.CutPrefix(name, "_"); ok {
		inner, ok = strings.CutSuffix(inner, "_value")
		if c, found := t.columns[inner]; ok && found && isDVLookup(c.Type) {
			return c, true
		}
		return DataverseColumn{}, false
	}
	c, ok := t.columns[name]
	return c, ok && !isDVLookup(c.Type)
}

func isDVLookup(typ string) bool { return typ == "Lookup" || typ == "Customer" || typ == "Owner" }

func (f *Dataverse) readRow(w http.ResponseWriter, r *http.Request, t *dvTable, id string) {
	var sel []string
	if s := r.URL.Query().Get("$select"); s != "" {
		sel = strings.Split(s, ",")
	}
	for _, p := range sel {
		if _, ok := t.property(p); !ok {
			dvError(w, 400, "0x80060888", fmt.Sprintf("Could not find a property named '%s' on type 'Microsoft.Dynamics.CRM.%s'.", p, t.logical))
			return
		}
	}
	row := t.rows[id]
	if row == nil {
		dvError(w, 404, "0x80040217", fmt.Sprintf("%s With Id = %s Does Not Exist", t.logical, id))
		return
	}
	out := map[string]any{"@odata.context": f.URL() + "/api/data/v9.2/$metadata#" + t.set + "/$entity",
		"@odata.etag": fmt.Sprintf(`W/"%d"`, row.version), t.logical + "id": id}
	if sel == nil {
		for p := range row.values {
			sel = append(sel, p)
		}
	}
	for _, p := range sel {
		if v, ok := row.values[p]; ok {
			out[p] = v
		} else {
			out[p] = nil
		}
	}
	writeJSON(w, 200, out)
}

func (f *Dataverse) updateRow(w http.ResponseWriter, r *http.Request, t *dvTable, id string) {
	payloadErr := func(detail string) {
		dvError(w, 400, "0x80048d19", "Error identified in Payload provided by the user for Entity :'"+t.set+"', For more information on this error please follow this help link https://go.microsoft.com/fwlink/?linkid=2195293  ----> InnerException : Microsoft.OData.ODataException: "+detail)
	}
	dec := json.NewDecoder(r.Body)
	dec.UseNumber()
	var body map[string]json.RawMessage
	if err := dec.Decode(&body); err != nil {
		payloadErr("Does not support untyped value in non-open type.")
		return
	}
	for p, v := range body {
		if strings.HasPrefix(p, "_") && strings.HasSuffix(p, "_value") {
			dvError(w, 400, "0x80048d19", "CRM do not support direct update of Entity Reference properties, Use Navigation properties instead.")
			return
		}
		c, ok := t.property(p)
		if !ok {
			payloadErr(fmt.Sprintf("The property '%s' does not exist on type 'Microsoft.Dynamics.CRM.%s'. Make sure to only use property names that are defined by the type or mark the type as open type.", p, t.logical))
			return
		}
		if !dvTyped(c.Type, v) {
			payloadErr(fmt.Sprintf("Cannot convert the literal '%s' to the expected type for column %s (%s).", v, p, c.Type))
			return
		}
	}
	row := t.rows[id]
	switch match := r.Header.Get("If-Match"); {
	case row == nil && match == "":
		// No If-Match: PATCH on a key is an upsert and creates the row.
		row = &dvRow{values: map[string]json.RawMessage{}}
		t.rows[id] = row
	case row == nil:
		dvError(w, 404, "0x80040217", fmt.Sprintf("%s With Id = %s Does Not Exist", t.logical, id))
		return
	case match != "" && match != "*" && match != fmt.Sprintf(`W/"%d"`, row.version):
		dvError(w, 412, "0x80060882", "The version of the existing record doesn't match the RowVersion property provided.")
		return
	}
	for p, v := range body {
		row.values[p] = v
	}
	row.version++
	w.WriteHeader(http.StatusNoContent)
}

// dvTyped reports whether v is a JSON value of the column type.
func dvTyped(typ string, v json.RawMessage) bool {
	v = bytes.TrimSpace(v)
	if string(v) == "null" {
		return true
	}
	number := v[0] == '-' || v[0] >= '0' && v[0] <= '9'
	switch typ {
	case "String", "Memo", "EntityName", "Uniqueidentifier", "DateTime":
		return v[0] == '"'
	case "Integer", "BigInt", "Picklist", "State", "Status":
		return number && !bytes.ContainsAny(v, ".eE")
	case "Decimal", "Double", "Money":
		return number
	case "Boolean":
		return string(v) == "true" || string(v) == "false"
	}
	return false
}
