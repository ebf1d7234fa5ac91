package adapter

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestCallerClassifiesResponses(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	tests := []struct {
		name   string
		status int
		header map[string]string
		body   string
		kind   Kind
		wait   time.Duration
		msg    string
	}{
		{"rate limited", 429, map[string]string{"Retry-After": "12"}, `{"code":"TooMany","message":"slow down"}`, KindRetryable, 12 * time.Second, "slow down"},
		{"rate limit reset header", 429, map[string]string{"X-Rate-Limit-Reset": "1800000030"}, `{}`, KindRetryable, 30 * time.Second, "{}"},
		{"server error", 503, nil, "upstream down\nstack…", KindRetryable, 0, "upstream down"},
		{"forbidden", 403, nil, `{"code":"Denied","message":"no"}`, KindAuth, 0, "no"},
		{"not found", 404, nil, `{"code":"NF","message":"no such user"}`, KindNotFound, 0, "no such user"},
		{"bad request", 400, nil, `{"code":"Bad","message":"field x"}`, KindInvalid, 0, "field x"},
		{"teapot", 418, nil, ``, KindPermanent, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			c := Caller{Vendor: "acme", Now: func() time.Time { return now }, ResetHeader: "X-Rate-Limit-Reset",
				Describe: func(b []byte) (string, string) {
					var code, msg string
					if strings.HasPrefix(string(b), `{"code"`) {
						parts := strings.Split(string(b), `"`)
						code, msg = parts[3], parts[7]
					}
					return code, msg
				}}
			_, err := c.Do(t.Context(), Request{Op: "freeze", Method: "POST", URL: srv.URL})
			var ve *Error
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want *Error", err)
			}
			if ve.Kind != tt.kind || ve.RetryAfter != tt.wait || ve.Message != tt.msg || ve.Status != tt.status {
				t.Fatalf("got kind %v wait %v msg %q status %d; want %v %v %q %d", ve.Kind, ve.RetryAfter, ve.Message, ve.Status, tt.kind, tt.wait, tt.msg, tt.status)
			}
			if IsRetryable(err) != (tt.kind == KindRetryable) {
				t.Fatalf("IsRetryable = %v for kind %v", IsRetryable(err), tt.kind)
			}
		})
	}
}

// refreshingAuth hands out numbered tokens and counts invalidations.
type refreshingAuth struct {
	n, invalidated atomic.Int32
	static         bool
}

func (a *refreshingAuth) Authorize(_ context.Context, r *http.Request) (string, error) {
	tok := "t" + string(rune('0'+a.n.Load()))
	r.Header.Set("Authorization", "Bearer "+tok)
	return tok, nil
}

func (a *refreshingAuth) Invalidate(string) bool {
	a.invalidated.Add(1)
	a.n.Add(1)
	return !a.static
}

func TestCallerRefreshesOnceOn401(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.Header.Get("Authorization") != "Bearer t1" {
			w.WriteHeader(401)
			return
		}
		w.WriteHeader(204)
	}))
	defer srv.Close()

	auth := &refreshingAuth{}
	c := Caller{Vendor: "acme", Auth: auth}
	if _, err := c.Do(t.Context(), Request{Method: "GET", URL: srv.URL}); err != nil {
		t.Fatalf("after refresh: %v", err)
	}
	if calls.Load() != 2 || auth.invalidated.Load() != 1 {
		t.Fatalf("calls %d invalidations %d, want 2 and 1", calls.Load(), auth.invalidated.Load())
	}

	// A token that is refused again is an auth failure after exactly one refresh.
	calls.Store(0)
	auth = &refreshingAuth{}
	auth.n.Store(5)
	c.Auth = auth
	_, err := c.Do(t.Context(), Request{Method: "GET", URL: srv.URL})
	if !errors.Is(err, ErrAuth) || calls.Load() != 2 {
		t.Fatalf("err %v after %d calls, want ErrAuth after 2", err, calls.Load())
	}

	// A static token is never retried.
	calls.Store(0)
	c.Auth = &refreshingAuth{static: true, n: atomic.Int32{}}
	c.Auth.(*refreshingAuth).n.Store(7)
	_, err = c.Do(t.Context(), Request{Method: "GET", URL: srv.URL})
	if !errors.Is(err, ErrAuth) || calls.Load() != 1 {
		t.Fatalf("static token: err %v after %d calls, want ErrAuth after 1", err, calls.Load())
	}
}

func TestCallerTimeoutIsRetryable(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	c := Caller{Vendor: "acme", Timeout: 20 * time.Millisecond}
	_, err := c.Do(t.Context(), Request{Method: "GET", URL: srv.URL})
	if !IsRetryable(err) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want a retryable deadline error", err)
	}
}

func TestCallerConnectionRefusedIsRetryable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	c := Caller{Vendor: "acme"}
	_, err = c.Do(t.Context(), Request{Method: "GET", URL: "http://" + addr})
	if !IsRetryable(err) {
		t.Fatalf("err = %v, want retryable", err)
	}
}

func TestCancelledContextIsNotRetryable(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	c := Caller{Vendor: "acme"}
	_, err := c.Do(ctx, Request{Method: "GET", URL: srv.URL})
	if err == nil || IsRetryable(err) {
		t.Fatalf("err = %v, want a permanent cancellation", err)
	}
}

func TestClipKeepsUTF8(t *testing.T) {
	s := strings.Repeat("é", 400) // 800 bytes
	got := Clip(s)
	if !strings.HasSuffix(got, "…") || len(got) > maxMessage+len("…") {
		t.Fatalf("Clip gave %d bytes", len(got))
	}
	if strings.ContainsRune(strings.TrimSuffix(got, "…"), '\uFFFD') {
		t.Fatal("Clip split a rune")
	}
}
