package report

import (
	"encoding/csv"
	"fmt"
	"html/template"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
)

// WriteCSV writes section i of r as CSV, header first.
func (r *Result) WriteCSV(w io.Writer, i int) error {
	s := r.Sections[i]
	cw := csv.NewWriter(w)
	if s.Columns != nil {
		_ = cw.Write(s.Columns)
	}
	for _, row := range s.Rows {
		_ = cw.Write(row)
	}
	cw.Flush()
	return cw.Error()
}

// CSVName is the file name of section i's CSV.
func (r *Result) CSVName(i int) string {
	if len(r.Sections) == 1 {
		return r.Name + ".csv"
	}
	return fmt.Sprintf("%s-%d.csv", r.Name, i+1)
}

var page = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8"/>
<title>{{.R.Title}} — {{.R.Tenant}}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em;color:#1b1f24}
h1{font-size:1.5em;margin-bottom:.2em}h2{font-size:1.15em;margin-top:2em}
.meta{color:#555}table{border-collapse:collapse;margin-top:.5em;font-size:.85em}
th,td{border:1px solid #c8ccd1;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#eef1f4}td.n{text-align:right;font-variant-numeric:tabular-nums}
svg{display:block;margin-top:.5em;max-width:100%}
@media print{body{margin:1cm}h2{break-after:avoid}table,svg{break-inside:avoid}}
</style>
</head>
<body>
<h1>{{.R.Title}}</h1>
<p class="meta">Tenant {{.R.Tenant}}{{if not .R.From.IsZero}}, {{.From}} to {{.To}}{{end}}. Generated {{.Generated}} by Trailwatch (report {{.R.Name}}).</p>
{{if .R.Description}}<p>{{.R.Description}}</p>{{end}}
{{range .Sections}}
<h2>{{.Title}}</h2>
<p class="meta">Named query {{.Query}}: {{len .Rows}} rows.</p>
{{.SVG}}
{{if .Rows}}<table>
<thead><tr>{{range .Columns}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>{{range .Rows}}<tr>{{range .}}<td{{if .Num}} class="n"{{end}}>{{.Text}}</td>{{end}}</tr>
{{end}}</tbody>
</table>{{else}}<p>No rows.</p>{{end}}
{{end}}
</body>
</html>
`))

type cell struct {
	Text string
	Num  bool
}

type htmlSection struct {
	Title, Query string
	Columns      []string
	Rows         [][]cell
	SVG          template.HTML
}

// WriteHTML writes r as one self-contained page: no scripts, no external
// resources, charts as inline SVG.
func (r *Result) WriteHTML(w io.Writer) error {
	const ts = "2006-01-02 15:04 UTC"
	data := struct {
		R                   *Result
		From, To, Generated string
		Sections            []htmlSection
	}{R: r, From: r.From.Format(ts), To: r.To.Format(ts), Generated: r.GeneratedAt.Format(ts)}
	for _, s := range r.Sections {
		hs := htmlSection{Title: s.Title, Query: s.Query, Columns: s.Columns}
		for _, row := range s.Rows {
			cells := make([]cell, len(row))
			for i, v := range row {
				_, err := strconv.ParseFloat(v, 64)
				cells[i] = cell{Text: v, Num: err == nil}
			}
			hs.Rows = append(hs.Rows, cells)
		}
		if s.Chart != nil {
			hs.SVG = template.HTML(chartSVG(s))
		}
		data.Sections = append(data.Sections, hs)
	}
	return page.Execute(w, data)
}

// chartSVG draws s's chart; values that are not numbers count as zero. The
// labels are escaped: they come from the data.
func chartSVG(s SectionResult) string {
	xi, yi, si := -1, -1, -1
	for i, c := range s.Columns {
		switch c {
		case s.Chart.X:
			xi = i
		case s.Chart.Y:
			yi = i
		case s.Chart.Series:
			si = i
		}
	}
	if xi < 0 || yi < 0 || len(s.Rows) == 0 {
		return ""
	}
	num := func(v string) float64 {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return 0
		}
		return f
	}
	esc := template.HTMLEscapeString
	var b strings.Builder
	const left, top, plotW, plotH = 160.0, 10.0, 560.0, 0.0
	if s.Chart.Kind == "bar" {
		rows := s.Rows
		if len(rows) > 30 {
			rows = rows[:30]
		}
		max := 0.0
		for _, r := range rows {
			max = math.Max(max, num(r[yi]))
		}
		h := 22*float64(len(rows)) + 2*top
		fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="760" height="%.0f" role="img" aria-label="%s by %s">`, h, esc(s.Chart.Y), esc(s.Chart.X))
		for i, r := range rows {
			y := top + 22*float64(i)
			wd := 0.0
			if max > 0 {
				wd = plotW * num(r[yi]) / max
			}
			fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" font-size="11" text-anchor="end">%s</text>`, left-6, y+14, esc(trunc(r[xi], 24)))
			fmt.Fprintf(&b, `<rect x="%.0f" y="%.0f" width="%.1f" height="16" fill="#3b6ea5"/>`, left, y+2, wd)
			fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" font-size="11">%s</text>`, left+wd+4, y+14, esc(r[yi]))
		}
		b.WriteString(`</svg>`)
		return b.String()
	}
	// Line: x values in order of first appearance, one polyline per series.
	var xs []string
	xpos := map[string]int{}
	series := map[string]map[int]float64{}
	max := 0.0
	for _, r := range s.Rows {
		x := r[xi]
		if _, ok := xpos[x]; !ok {
			xpos[x] = len(xs)
			xs = append(xs, x)
		}
		name := s.Chart.Y
		if si >= 0 {
			name = r[si]
		}
		if series[name] == nil {
			series[name] = map[int]float64{}
		}
		series[name][xpos[x]] += num(r[yi])
		max = math.Max(max, series[name][xpos[x]])
	}
	names := make([]string, 0, len(series))
	for n := range series {
		names = append(names, n)
	}
	sort.Strings(names)
	const w, hgt, l, t, pw, ph = 760.0, 300.0, 50.0, 10.0, 540.0, 240.0
	colors := []string{"#3b6ea5", "#c8553d", "#588b3a", "#8e5ea2", "#d9a21b", "#2a9d8f", "#6c757d", "#e76f51"}
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" role="img" aria-label="%s over %s">`, w, hgt, esc(s.Chart.Y), esc(s.Chart.X))
	fmt.Fprintf(&b, `<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="#888"/>`, l, t+ph, l+pw, t+ph)
	fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" font-size="11" text-anchor="end">%s</text>`, l-4, t+10, esc(strconv.FormatFloat(max, 'f', -1, 64)))
	fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" font-size="11">%s</text>`, l, t+ph+16, esc(xs[0]))
	fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" font-size="11" text-anchor="end">%s</text>`, l+pw, t+ph+16, esc(xs[len(xs)-1]))
	for k, n := range names {
		var pts []string
		for i := range xs {
			x := l
			if len(xs) > 1 {
				x = l + pw*float64(i)/float64(len(xs)-1)
			}
			y := t + ph
			if max > 0 {
				y -= ph * series[n][i] / max
			}
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x, y))
		}
		c := colors[k%len(colors)]
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`, c, strings.Join(pts, " "))
		fmt.Fprintf(&b, `<rect x="%.0f" y="%.0f" width="10" height="10" fill="%s"/><text x="%.0f" y="%.0f" font-size="11">%s</text>`,
			l+pw+16, t+16*float64(k), c, l+pw+30, t+16*float64(k)+9, esc(trunc(n, 20)))
	}
	b.WriteString(`</svg>`)
	return b.String()
}

func trunc(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
