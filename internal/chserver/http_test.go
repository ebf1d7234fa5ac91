package chserver

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/ch-go/compress"
	"github.com/klauspost/compress/zstd"
)

// rawClient sends requests as curl does: no automatic decompression.
var rawClient = &http.Client{Transport: &http.Transport{DisableCompression: true}}

type reply struct {
	status int
	header http.Header
	body   string
}

// call sends one request. user is "name:password" or "" for none.
func call(t testing.TB, method, params string, body io.Reader, user string, headers ...string) reply {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, testURL+"/?"+params, body)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		name, pass, _ := strings.Cut(user, ":")
		req.SetBasicAuth(name, pass)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := rawClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading reply: %v", err)
	}
	return reply{resp.StatusCode, resp.Header, string(b)}
}

func q(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v.Encode()
}

// admin runs SQL as the admin and fails the test on any error.
func admin(t testing.TB, sql string) string {
	t.Helper()
	r := call(t, "POST", "", strings.NewReader(sql), "admin:"+adminPassword)
	if r.status != 200 {
		t.Fatalf("%s: %d %s", sql, r.status, r.body)
	}
	return r.body
}

// httpTable makes a table over HTTP for one test.
func httpTable(t testing.TB, columns string) string {
	t.Helper()
	name := fmt.Sprintf("h_%s", strings.NewReplacer("/", "_", " ", "_", "-", "_").Replace(strings.ToLower(t.Name())))
	admin(t, "DROP TABLE IF EXISTS "+name)
	admin(t, "CREATE TABLE "+name+" ("+columns+") ENGINE = MergeTree ORDER BY tuple()")
	t.Cleanup(func() { call(t, "POST", "", strings.NewReader("DROP TABLE IF EXISTS "+name), "admin:"+adminPassword) })
	return name
}

func TestHTTPDefaultTSV(t *testing.T) {
	r := call(t, "GET", q("query", "SELECT 1, 'a\tb', [1,2]", "query_id", "my-query-7"), nil, "")
	if r.status != 200 || r.body != "1\ta\\tb\t[1,2]\n" {
		t.Fatalf("%d %q", r.status, r.body)
	}
	h := r.header
	if h.Get("X-ClickHouse-Format") != "TabSeparated" || h.Get("Content-Type") != "text/tab-separated-values; charset=UTF-8" {
		t.Errorf("headers %v", h)
	}
	// A small result goes out whole, with its length.
	if h.Get("Content-Length") != fmt.Sprint(len(r.body)) {
		t.Errorf("Content-Length %q for %d bytes", h.Get("Content-Length"), len(r.body))
	}
	if h.Get("X-ClickHouse-Query-Id") != "my-query-7" {
		t.Errorf("query id %q", h.Get("X-ClickHouse-Query-Id"))
	}
	if s := h.Get("X-ClickHouse-Summary"); !strings.Contains(s, `"read_rows":"1"`) {
		t.Errorf("summary %q", s)
	}
	// Without query_id the server makes one.
	if r := call(t, "GET", q("query", "SELECT 1"), nil, ""); len(r.header.Get("X-ClickHouse-Query-Id")) < 16 {
		t.Errorf("no generated query id: %v", r.header)
	}
}

func TestHTTPQueryInURLBodyOrBoth(t *testing.T) {
	tests := []struct {
		name, params, body, want string
	}{
		{"url", q("query", "SELECT 1 + 1"), "", "2\n"},
		{"body", "", "SELECT 2 + 2", "4\n"},
		// The URL's query is the start, the body the rest (after a newline).
		{"both", q("query", "SELECT 3"), "+ 3", "6\n"},
		{"both with format", q("query", "SELECT 3 AS x"), "FORMAT JSONEachRow", "{\"x\":3}\n"},
		{"format parameter", q("default_format", "CSV"), "SELECT 'a', 1", "\"a\",1\n"},
		{"format clause beats parameter", q("default_format", "CSV"), "SELECT 'a' FORMAT TSV", "a\n"},
		// A statement longer than any read buffer is read whole (it was
		// once cut at 64 KiB and answered 1).
		{"long statement", "", "SELECT 1 " + strings.Repeat(" ", 200000) + "+ 1", "2\n"},
		{"long statement after url part", q("query", "SELECT 1"), strings.Repeat(" ", 200000) + "+ 1", "2\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, "POST", tc.params, strings.NewReader(tc.body), "")
			if r.status != 200 || r.body != tc.want {
				t.Fatalf("%d %q, want %q", r.status, r.body, tc.want)
			}
		})
	}
	r := call(t, "POST", q("query", "SELECT 1 AS x FORMAT JSONEachRow"), nil, "")
	if r.header.Get("Content-Type") != "application/x-ndjson; charset=UTF-8" || r.header.Get("X-ClickHouse-Format") != "JSONEachRow" {
		t.Errorf("JSONEachRow headers %v", r.header)
	}
	// The format clause with the statement's own SETTINGS after it.
	r = call(t, "POST", q("max_threads", "2"), strings.NewReader("SELECT getSetting('max_threads') AS t FORMAT CSV SETTINGS max_block_size = 5"), "reader:"+readerPassword)
	if r.status != 200 || r.body != "2\n" {
		t.Fatalf("FORMAT … SETTINGS with URL settings: %d %q", r.status, r.body)
	}
}

func TestHTTPInserts(t *testing.T) {
	table := httpTable(t, "id UInt32, name String")
	gz := func(s string) io.Reader {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		io.WriteString(w, s)
		w.Close()
		return &b
	}
	zs := func(s string) io.Reader {
		var b bytes.Buffer
		w, _ := zstd.NewWriter(&b)
		io.WriteString(w, s)
		w.Close()
		return &b
	}
	defl := func(s string) io.Reader {
		var b bytes.Buffer
		w := zlib.NewWriter(&b)
		io.WriteString(w, s)
		w.Close()
		return &b
	}
	blocks := func(m compress.Method, s string) io.Reader {
		w := compress.NewWriter(compress.LevelZero, m)
		if err := w.Compress([]byte(s)); err != nil {
			t.Fatal(err)
		}
		return bytes.NewReader(w.Data)
	}
	tests := []struct {
		name    string
		params  string
		body    io.Reader
		headers []string
		id      int
	}{
		{"csv", q("query", "INSERT INTO "+table+" FORMAT CSV"), strings.NewReader("1,\"a,b\"\n"), nil, 1},
		{"tsv", q("query", "INSERT INTO "+table+" FORMAT TSV"), strings.NewReader("2\tb\\tc\n"), nil, 2},
		{"jsoneachrow", q("query", "INSERT INTO "+table+" FORMAT JSONEachRow"), strings.NewReader(`{"id":3,"name":"c"}` + "\n"), nil, 3},
		{"statement and data in body", "", strings.NewReader("INSERT INTO " + table + " FORMAT CSV\n4,d\n"), nil, 4},
		{"values in body", "", strings.NewReader("INSERT INTO " + table + " VALUES (5, 'e')"), nil, 5},
		{"values in url", q("query", "INSERT INTO "+table+" VALUES (6, 'f')"), nil, nil, 6},
		{"gzip", q("query", "INSERT INTO "+table+" FORMAT CSV"), gz("7,g\n"), []string{"Content-Encoding", "gzip"}, 7},
		{"gzip statement", "", gz("INSERT INTO " + table + " FORMAT CSV\n8,h\n"), []string{"Content-Encoding", "gzip"}, 8},
		{"zstd", q("query", "INSERT INTO "+table+" FORMAT CSV"), zs("9,i\n"), []string{"Content-Encoding", "zstd"}, 9},
		{"deflate", q("query", "INSERT INTO "+table+" FORMAT CSV"), defl("10,j\n"), []string{"Content-Encoding", "deflate"}, 10},
		{"decompress lz4", q("query", "INSERT INTO "+table+" FORMAT CSV", "decompress", "1"), blocks(compress.LZ4, "11,k\n"), nil, 11},
		{"decompress zstd", q("query", "INSERT INTO "+table+" FORMAT CSV", "decompress", "1"), blocks(compress.ZSTD, "12,l\n"), nil, 12},
		{"insert settings", q("query", "INSERT INTO "+table+" SETTINGS input_format_csv_skip_first_lines = 1 FORMAT CSV"), strings.NewReader("id,name\n13,m\n"), nil, 13},
		{"writer", q("query", "INSERT INTO "+table+" FORMAT CSV"), strings.NewReader("14,n\n"), []string{"X-ClickHouse-User", "writer", "X-ClickHouse-Key", writerPassword}, 14},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, "POST", tc.params, tc.body, "", tc.headers...)
			if r.status != 200 {
				t.Fatalf("%d %s", r.status, r.body)
			}
			if s := r.header.Get("X-ClickHouse-Summary"); !strings.Contains(s, `"written_rows":"1"`) {
				t.Errorf("summary %q", s)
			}
		})
	}
	got := admin(t, "SELECT id, name FROM "+table+" ORDER BY id FORMAT TSV")
	want := "1\ta,b\n2\tb\\tc\n3\tc\n4\td\n5\te\n6\tf\n7\tg\n8\th\n9\ti\n10\tj\n11\tk\n12\tl\n13\tm\n14\tn\n"
	if got != want {
		t.Fatalf("table holds\n%s\nwant\n%s", got, want)
	}
}

func TestHTTPCompressedReplies(t *testing.T) {
	want := admin(t, "SELECT number FROM numbers(10000) FORMAT TSV")
	for _, enc := range []string{"gzip", "deflate", "zstd"} {
		t.Run(enc, func(t *testing.T) {
			r := call(t, "POST", q("enable_http_compression", "1"), strings.NewReader("SELECT number FROM numbers(10000)"), "", "Accept-Encoding", enc)
			if r.status != 200 || r.header.Get("Content-Encoding") != enc {
				t.Fatalf("%d %v", r.status, r.header)
			}
			var d io.Reader
			var err error
			switch enc {
			case "gzip":
				d, err = gzip.NewReader(strings.NewReader(r.body))
			case "deflate":
				d, err = zlib.NewReader(strings.NewReader(r.body))
			case "zstd":
				var z *zstd.Decoder
				z, err = zstd.NewReader(strings.NewReader(r.body))
				d = z
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(d)
			if err != nil || string(got) != want {
				t.Fatalf("decoded %d bytes, want %d: %v", len(got), len(want), err)
			}
		})
	}
	// Without enable_http_compression the reply is plain, as on a server.
	r := call(t, "POST", "", strings.NewReader("SELECT 1"), "", "Accept-Encoding", "gzip")
	if r.header.Get("Content-Encoding") != "" || r.body != "1\n" {
		t.Fatalf("%v %q", r.header, r.body)
	}
	// compress=1: ClickHouse's compressed blocks.
	r = call(t, "POST", q("compress", "1"), strings.NewReader("SELECT number FROM numbers(10000) FORMAT TSV"), "")
	if r.status != 200 || len(r.body) < 16 || r.body[16] != 0x82 { // LZ4 method byte after the checksum
		t.Fatalf("compress=1: %d %q", r.status, r.body[:min(len(r.body), 32)])
	}
}

func TestHTTPAuthentication(t *testing.T) {
	tests := []struct {
		name    string
		user    string
		params  string
		headers []string
		status  int
		code    string
		text    string
	}{
		{"wrong password", "reader:nope", "", nil, 403, "516", "Code: 516. DB::Exception: reader: Authentication failed: password is incorrect, or there is no user with such name"},
		{"unknown user", "mallory:x", "", nil, 403, "516", "mallory: Authentication failed"},
		{"password for a password-less user", "default:x", "", nil, 403, "516", "default: Authentication failed"},
		{"header credentials", "", "", []string{"X-ClickHouse-User", "reader", "X-ClickHouse-Key", "bad"}, 403, "516", "reader: Authentication failed"},
		{"url credentials", "", q("user", "reader", "password", "bad"), nil, 403, "516", "reader: Authentication failed"},
		{"bearer", "", "", []string{"Authorization", "Bearer abc.def.ghi"}, 401, "516", "Authentication failed"},
		{"good header credentials", "", "", []string{"X-ClickHouse-User", "reader", "X-ClickHouse-Key", readerPassword}, 200, "", "1\n"},
		{"good url credentials", "", q("user", "admin", "password", adminPassword), nil, 200, "", "1\n"},
		{"no credentials is default", "", "", nil, 200, "", "1\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, "POST", tc.params, strings.NewReader("SELECT 1"), tc.user, tc.headers...)
			if r.status != tc.status || r.header.Get("X-ClickHouse-Exception-Code") != tc.code || !strings.Contains(r.body, tc.text) {
				t.Fatalf("%d code=%q %q", r.status, r.header.Get("X-ClickHouse-Exception-Code"), r.body)
			}
		})
	}
}

func TestHTTPErrorsAsAServer(t *testing.T) {
	tests := []struct {
		name, params, body string
		status             int
		code               string
	}{
		{"unknown table", "", "SELECT * FROM nope_x", 404, "60"},
		{"syntax", "", "SELEC 1", 400, "62"},
		{"unknown setting in url", q("no_such_setting_y", "1"), "SELECT 1", 404, "115"},
		{"unknown setting on insert", q("no_such_setting_y", "1", "query", "INSERT INTO nope_x FORMAT CSV"), "1\n", 404, "115"},
		{"bad setting value", q("max_threads", "lots"), "SELECT 1", 400, ""},
		{"unknown database", q("database", "no_such_db_z"), "SELECT 1", 404, "81"},
		{"empty query", "", "", 400, "62"},
		{"query too large", "", "SELECT 1 " + strings.Repeat(" ", 300000), 413, "229"},
		{"multi-statement", "", "SELECT 1; SELECT 2", 400, "62"},
		{"get cannot write", q("query", "CREATE TABLE get_t (x UInt8) ENGINE = Memory"), "", 400, "164"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			method := "POST"
			if tc.name == "get cannot write" {
				method = "GET"
			}
			r := call(t, method, tc.params, strings.NewReader(tc.body), "")
			if tc.status == 400 && tc.code == "" {
				// The engine's own parse error for the value (code 72, 500 on a server).
				if r.status < 400 {
					t.Fatalf("%d %s", r.status, r.body)
				}
				return
			}
			if r.status != tc.status && !(tc.code == "164" && r.status == 500) || r.header.Get("X-ClickHouse-Exception-Code") != tc.code {
				t.Fatalf("%d code=%q %s", r.status, r.header.Get("X-ClickHouse-Exception-Code"), r.body)
			}
			if !strings.HasPrefix(r.body, "Code: "+tc.code+". DB::Exception: ") {
				t.Fatalf("body %q", r.body)
			}
		})
	}
}

func TestHTTPPingAndPaths(t *testing.T) {
	resp, err := rawClient.Get(testURL + "/ping")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "Ok.\n" {
		t.Fatalf("ping: %d %q", resp.StatusCode, b)
	}
	resp, err = rawClient.Get(testURL + "/no/such/handler")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 404 || !strings.Contains(string(b), "There is no handle /no/such/handler") {
		t.Fatalf("unknown path: %d %q", resp.StatusCode, b)
	}
}

// TestHTTPExpectContinue: curl sends large bodies after "Expect:
// 100-continue"; the insert must still go through.
func TestHTTPExpectContinue(t *testing.T) {
	table := httpTable(t, "id UInt32")
	client := &http.Client{Transport: &http.Transport{ExpectContinueTimeout: 30 * time.Second}}
	var body strings.Builder
	for i := range 200000 {
		fmt.Fprintf(&body, "%d\n", i)
	}
	req, err := http.NewRequestWithContext(t.Context(), "POST", testURL+"/?"+q("query", "INSERT INTO "+table+" FORMAT CSV"), strings.NewReader(body.String()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Expect", "100-continue")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	if got := admin(t, "SELECT count(), sum(id) FROM "+table+" FORMAT TSV"); got != "200000\t19999900000\n" {
		t.Fatalf("got %q", got)
	}
}
