package chserver

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	dto "github.com/prometheus/client_model/go"
	"github.com/rs/zerolog"
)

// finishedRequests counts the requests the server has answered.
func finishedRequests(t testing.TB) float64 {
	t.Helper()
	mfs, err := testReg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var n float64
	for _, mf := range mfs {
		if mf.GetName() != "trailwatch_clickhouse_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			n += counterValue(m)
		}
	}
	return n
}

func counterValue(m *dto.Metric) float64 { return m.GetCounter().GetValue() }

// waitFinished waits until the server has answered more than before.
func waitFinished(t testing.TB, before float64) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for finishedRequests(t) <= before {
		if time.Now().After(deadline) {
			t.Fatal("the server never finished the request")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestTruncatedNativeBody(t *testing.T) {
	table := httpTable(t, "id UInt64, s String")
	native := admin(t, "SELECT number AS id, toString(number) AS s FROM numbers(1000) FORMAT Native")
	for _, cut := range []int{1, 7, len(native) / 2, len(native) - 1} {
		t.Run(fmt.Sprint(cut), func(t *testing.T) {
			r := call(t, "POST", q("query", "INSERT INTO "+table+" FORMAT Native"), strings.NewReader(native[:cut]), "")
			if r.status < 400 || !strings.HasPrefix(r.body, "Code: ") {
				t.Fatalf("truncated Native accepted: %d %q", r.status, r.body)
			}
		})
	}
	if got := admin(t, "SELECT count() FROM "+table+" FORMAT TSV"); got != "0\n" {
		t.Fatalf("rows from truncated bodies were stored: %s", got)
	}
	// The whole body goes in.
	if r := call(t, "POST", q("query", "INSERT INTO "+table+" FORMAT Native"), strings.NewReader(native), ""); r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if got := admin(t, "SELECT count(), sum(id) FROM "+table+" FORMAT TSV"); got != "1000\t499500\n" {
		t.Fatalf("got %q", got)
	}
}

// TestClientDiesMidUpload: a CSV upload whose client disappears half way
// must not commit the rows it sent (a CSV cut at a line end would parse
// as complete).
func TestClientDiesMidUpload(t *testing.T) {
	table := httpTable(t, "id UInt64")
	var rows strings.Builder
	for i := range 100000 {
		fmt.Fprintf(&rows, "%d\n", i)
	}
	data := rows.String()
	for _, chunked := range []bool{false, true} {
		t.Run(fmt.Sprint("chunked=", chunked), func(t *testing.T) {
			before := finishedRequests(t)
			conn, err := net.Dial("tcp", strings.TrimPrefix(testURL, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			target := "/?" + q("query", "INSERT INTO "+table+" FORMAT CSV")
			half := data[:strings.LastIndexByte(data[:len(data)/2], '\n')+1]
			w := bufio.NewWriter(conn)
			if chunked {
				fmt.Fprintf(w, "POST %s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n", target, len(half), half)
			} else {
				fmt.Fprintf(w, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", target, len(data), half)
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(50 * time.Millisecond) // let the engine take some rows
			conn.Close()
			waitFinished(t, before)
			if got := admin(t, "SELECT count() FROM "+table+" FORMAT TSV"); got != "0\n" {
				t.Fatalf("rows of a broken upload were stored: %s", got)
			}
		})
	}
}

// TestFailureHalfWay: a query that fails after its first blocks were sent
// ends with ClickHouse's in-band exception, which clients report.
func TestFailureHalfWay(t *testing.T) {
	sql := "SELECT number, throwIf(number = 1500000, 'half way there') FROM numbers(3000000) SETTINGS max_block_size = 10000"
	r := call(t, "POST", "", strings.NewReader(sql), "")
	if r.status != 200 {
		t.Fatalf("the failure came before any data: %d %s", r.status, r.body[:min(200, len(r.body))])
	}
	tag := r.header.Get("X-ClickHouse-Exception-Tag")
	if !strings.HasPrefix(r.body, "0\t0\n1\t0\n") || !strings.Contains(r.body, "\r\n__exception__\r\n"+tag+"\r\nCode: 395.") || !strings.Contains(r.body, "half way there") {
		t.Fatalf("no in-band exception at the end: %q", r.body[max(0, len(r.body)-300):])
	}
	for _, c := range allCompressions {
		t.Run(c.name, func(t *testing.T) {
			conn := openCH(t, c.m)
			rows, err := conn.Query(t.Context(), sql)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for rows.Next() {
				n++
			}
			err = rows.Err()
			rows.Close()
			var ex *clickhouse.Exception
			if !errors.As(err, &ex) || ex.Code != 395 || !strings.Contains(ex.Message, "half way there") {
				t.Fatalf("after %d rows: %v, want exception 395", n, err)
			}
			if n == 0 {
				t.Fatal("no rows before the failure")
			}
		})
	}
}

// TestQueueFull: past the queue's bound, requests are refused at once with
// 503 and a message that says why.
func TestQueueFull(t *testing.T) {
	// A server of its own on the same engine, with a queue of one.
	cfg := testSrv.cfg
	cfg.QueueSize = 1
	srv, err := New(t.Context(), testSrv.eng, cfg, zerolog.Nop(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(srv.fifoDir)
	if err := srv.q.acquire(t.Context()); err != nil { // the engine is busy
		t.Fatal(err)
	}
	waiting := make(chan *http.Response, 1)
	go func() {
		req, _ := http.NewRequestWithContext(t.Context(), "POST", "/", strings.NewReader("SELECT 1"))
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		waiting <- rec.Result()
	}()
	for srv.q.waiting() == 0 {
		time.Sleep(time.Millisecond)
	}
	req, _ := http.NewRequestWithContext(t.Context(), "POST", "/", strings.NewReader("SELECT 1"))
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	res := rec.Result()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 503 || res.Header.Get("X-ClickHouse-Exception-Code") != "202" || !strings.Contains(string(body), "queue is full") {
		t.Fatalf("full queue: %d %v %s", res.StatusCode, res.Header, body)
	}
	srv.q.release()
	if res := <-waiting; res.StatusCode != 200 {
		t.Fatalf("the waiting request: %d", res.StatusCode)
	}
}
