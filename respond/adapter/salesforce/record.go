package salesforce

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/trailwatch/trailwatch/respond/adapter"
)

// Record fields through the REST API's sObject Rows resource: GET
// /sobjects/{sObject}/{id}?fields=… reads fields (values as JSON types,
// null when empty), PATCH /sobjects/{sObject}/{id} with a JSON object
// updates them and answers 204 No Content. Names are checked before they
// reach a URL: sObject and field API names are letters, digits and
// underscores (custom ones end in __c), record ids 15 or 18 characters.
var (
	apiName  = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,79}$`)
	recordID = regexp.MustCompile(`^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$`)
)

func (c *Client) checkRecord(op, sobject, id string, fields []string) error {
	bad := func(msg string) error {
		return &adapter.Error{Vendor: vendorName, Op: op, Kind: adapter.KindInvalid, Message: msg}
	}
	if !apiName.MatchString(sobject) {
		return bad(fmt.Sprintf("%q is not an sObject API name", sobject))
	}
	if !recordID.MatchString(id) {
		return bad(fmt.Sprintf("%q is not a Salesforce record id (15 or 18 characters)", id))
	}
	if len(fields) == 0 {
		return bad("no fields")
	}
	for _, f := range fields {
		if !apiName.MatchString(f) {
			return bad(fmt.Sprintf("%q is not a field API name", f))
		}
	}
	return nil
}

// RecordFields reads fields of one record; a null field is nil, numbers
// and booleans come back as their JSON text.
func (c *Client) RecordFields(ctx context.Context, sobject, id string, fields []string) (map[string]*string, error) {
	if err := c.checkRecord("read_record", sobject, id, fields); err != nil {
		return nil, err
	}
	base, err := c.base(ctx)
	if err != nil {
		return nil, err
	}
	res, err := c.caller.Do(ctx, adapter.Request{
		Op: "read_record", Method: http.MethodGet,
		URL:    base + "/sobjects/" + sobject + "/" + id + "?" + url.Values{"fields": {strings.Join(fields, ",")}}.Encode(),
		Header: http.Header{"Accept": {"application/json"}},
	})
	if err != nil {
		return nil, err
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(res.Body, &raw); err != nil {
		return nil, &adapter.Error{Vendor: vendorName, Op: "read_record", Kind: adapter.KindRetryable,
			Status: res.Status, Message: "record response is not a JSON object", Err: err}
	}
	out := make(map[string]*string, len(fields))
	for _, f := range fields {
		v, ok := raw[f]
		if !ok || string(v) == "null" {
			out[f] = nil
			continue
		}
		var s string
		if json.Unmarshal(v, &s) != nil {
			s = string(v) // a number or boolean: its JSON text
		}
		out[f] = &s
	}
	return out, nil
}

// UpdateRecord sets fields of one record in one PATCH; a nil value
// clears the field (JSON null).
func (c *Client) UpdateRecord(ctx context.Context, sobject, id string, values map[string]*string) error {
	fields := make([]string, 0, len(values))
	for f := range values {
		fields = append(fields, f)
	}
	if err := c.checkRecord("update_record", sobject, id, fields); err != nil {
		return err
	}
	base, err := c.base(ctx)
	if err != nil {
		return err
	}
	body, err := json.Marshal(values)
	if err != nil {
		return fmt.Errorf("encoding the update: %w", err)
	}
	_, err = c.caller.Do(ctx, adapter.Request{
		Op: "update_record", Method: http.MethodPatch,
		URL:    base + "/sobjects/" + sobject + "/" + id,
		Body:   body,
		Header: http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json"}},
	})
	return err
}
