package dynamics

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/trailwatch/trailwatch/respond/adapter"
)

const vendorName = "dynamics365"

// Client disables and enables systemuser rows of one environment, and
// reads and updates rows of any table (record.go).
type Client struct {
	api    string
	caller adapter.Caller
	tables tableCache
}

// New loads the client secret and returns a client; httpClient may be nil.
func New(cfg Config, httpClient *http.Client) (*Client, error) {
	if err := cfg.Validate("dynamics365"); err != nil {
		return nil, err
	}
	secret, err := cfg.ClientSecret.Load()
	if err != nil {
		return nil, fmt.Errorf("dynamics365 client_secret: %w", err)
	}
	env := strings.TrimRight(cfg.EnvironmentURL, "/")
	tokenURL := cfg.TokenURL
	if tokenURL == "" {
		tokenURL = adapter.MicrosoftTokenURL(cfg.TenantID)
	}
	tokens := &adapter.ClientCredentials{Vendor: vendorName, TokenURL: tokenURL, ClientID: cfg.ClientID,
		ClientSecret: secret, Scope: env + "/.default", Client: httpClient, Timeout: cfg.Timeout}
	return &Client{api: env + "/api/data/v" + cfg.APIVersion, caller: adapter.Caller{
		Vendor: vendorName, Client: httpClient, Timeout: cfg.Timeout, Auth: tokens, Describe: adapter.DescribeMicrosoft,
	}}, nil
}

// guid is a row id (systemuserid, accountid, …). Checking it keeps the
// OData key segment well-formed.
var guid = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// odata are the headers the Web API wants on every request.
func odata() http.Header {
	return http.Header{"OData-MaxVersion": {"4.0"}, "OData-Version": {"4.0"}, "Accept": {"application/json"}}
}

// Frozen reports whether the systemuser row has isdisabled set.
func (c *Client) Frozen(ctx context.Context, user string) (bool, error) {
	u, err := c.rowURL(user)
	if err != nil {
		return false, err
	}
	res, err := c.caller.Do(ctx, adapter.Request{Op: "state", Method: http.MethodGet, URL: u + "?$select=isdisabled", Header: odata()})
	if err != nil {
		return false, err
	}
	var body struct {
		IsDisabled *bool `json:"isdisabled"`
	}
	if err := json.Unmarshal(res.Body, &body); err != nil || body.IsDisabled == nil {
		return false, &adapter.Error{Vendor: vendorName, Op: "state", Kind: adapter.KindRetryable, Status: res.Status,
			Message: "systemuser response has no isdisabled", Err: err}
	}
	return *body.IsDisabled, nil
}

// Freeze sets isdisabled=true on the systemuser row.
func (c *Client) Freeze(ctx context.Context, user string) error {
	return c.set(ctx, user, true, "freeze")
}

// Unfreeze sets isdisabled=false.
func (c *Client) Unfreeze(ctx context.Context, user string) error {
	return c.set(ctx, user, false, "unfreeze")
}

func (c *Client) set(ctx context.Context, user string, disabled bool, op string) error {
	u, err := c.rowURL(user)
	if err != nil {
		return err
	}
	h := odata()
	h.Set("Content-Type", "application/json")
	// PATCH on a Dataverse key is an upsert; If-Match: * makes it an update
	// that fails with 404 rather than create a user row.
	h.Set("If-Match", "*")
	body, _ := json.Marshal(map[string]bool{"isdisabled": disabled})
	_, err = c.caller.Do(ctx, adapter.Request{Op: op, Method: http.MethodPatch, URL: u, Body: body, Header: h})
	return err
}

func (c *Client) rowURL(user string) (string, error) {
	if !guid.MatchString(user) {
		return "", &adapter.Error{Vendor: vendorName, Op: "state", Kind: adapter.KindInvalid,
			Message: fmt.Sprintf("%q is not a systemuserid (a GUID)", user)}
	}
	return c.api + "/systemusers(" + strings.ToLower(user) + ")", nil
}
