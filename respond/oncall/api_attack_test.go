package oncall_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/trailwatch/trailwatch/internal/testenv"
	"github.com/trailwatch/trailwatch/respond/oncall"
)

// TestAPIAttacks: decisions change state only by POST with an approver's
// token in the Authorization header; a browser page on another origin
// gets no CORS grant; nothing a caller sends as a credential reaches the
// logs; an oversized reject body is refused.
func TestAPIAttacks(t *testing.T) {
	w := newWorld(t)
	ap, err := oncall.LoadApprovers(approvers(t))
	if err != nil {
		t.Fatal(err)
	}
	logs := &testenv.Buffer{}
	api, err := oncall.NewAPI(w.svc, ap, zerolog.New(logs).Level(zerolog.DebugLevel), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api)
	defer srv.Close()
	c := srv.Client()
	u := srv.URL + "/v1/actions"
	do := func(method, url string, header http.Header, body string) *http.Response {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range header {
			req.Header[k] = v
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	auth := http.Header{"Authorization": {"Bearer " + aliceToken}}

	t.Run("methods", func(t *testing.T) {
		for _, op := range []string{"approve", "reject", "undo"} {
			for _, m := range []string{"GET", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS"} {
				if resp := do(m, u+"/act-wait/"+op, auth, ""); resp.StatusCode != http.StatusMethodNotAllowed {
					t.Errorf("%s %s: %d, want 405", m, op, resp.StatusCode)
				}
			}
		}
		if resp := do("POST", u, auth, ""); resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("POST to the list: %d, want 405", resp.StatusCode)
		}
		// Refusals are JSON like every other answer, and say what is
		// allowed.
		for _, tc := range []struct{ method, url, code, allow string }{
			{"DELETE", u + "/act-wait", "405", "GET, HEAD"},
			{"GET", u + "/act-wait/approve", "405", "POST"},
			{"PUT", u, "405", "GET, HEAD"},
			{"GET", strings.TrimSuffix(u, "/v1/actions") + "/v2/whatever", "404", ""},
		} {
			resp := do(tc.method, tc.url, auth, "")
			if fmt.Sprint(resp.StatusCode) != tc.code || resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("Allow") != tc.allow {
				t.Errorf("%s %s: %d %q, Allow %q; want %s JSON, Allow %q", tc.method, tc.url, resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Allow"), tc.code, tc.allow)
			}
		}
	})
	t.Run("credentials elsewhere than the Authorization header", func(t *testing.T) {
		for _, tc := range []struct {
			url    string
			header http.Header
		}{
			{u + "/act-wait/approve?access_token=" + aliceToken, nil},
			{u + "/act-wait/approve?token=" + aliceToken, nil},
			{u + "/act-wait/approve", http.Header{"Cookie": {"token=" + aliceToken}}},
			{u + "/act-wait/approve", http.Header{"X-Api-Key": {aliceToken}}},
			{u + "/act-wait/approve", http.Header{"Authorization": {"Bearer"}}},
			{u + "/act-wait/approve", http.Header{"Authorization": {"Bearer " + aliceToken + " " + aliceToken}}},
		} {
			if resp := do("POST", tc.url, tc.header, ""); resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s %v: %d, want 401", tc.url, tc.header, resp.StatusCode)
			}
		}
	})
	t.Run("no CORS grant", func(t *testing.T) {
		h := http.Header{"Origin": {"https://evil.example"}, "Access-Control-Request-Method": {"POST"},
			"Access-Control-Request-Headers": {"authorization"}}
		for _, m := range []string{"OPTIONS", "POST"} {
			resp := do(m, u+"/act-wait/approve", h, "")
			if v := resp.Header.Get("Access-Control-Allow-Origin"); v != "" {
				t.Errorf("%s: Access-Control-Allow-Origin %q", m, v)
			}
		}
	})
	t.Run("oversized reject body", func(t *testing.T) {
		body := `{"reason":"` + strings.Repeat("x", 1<<20) + `"}`
		if resp := do("POST", u+"/act-wait/reject", auth, body); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("1 MiB reject body: %d, want 400", resp.StatusCode)
		}
	})
	if got := statuses(w.recordsOf(t, "act-wait")); got != "requested,awaiting_approval" {
		t.Fatalf("a refused request changed the action: %s", got)
	}
	if resp := do("POST", u+"/act-wait/approve", auth, ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("approval: %d", resp.StatusCode)
	}
	out := logs.String()
	if !strings.Contains(out, "without a valid token") || !strings.Contains(out, `"approved"`) {
		t.Fatalf("the API logged no refusal or approval, so this test proves nothing:\n%s", out)
	}
	for _, secret := range []string{aliceToken, bobToken, "access_token"} {
		if strings.Contains(out, secret) {
			t.Errorf("the logs hold %q:\n%s", secret, out)
		}
	}
}
