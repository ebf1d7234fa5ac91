// Package report runs report definitions: YAML files naming queries of the
// named query library (sink/queries) with their parameters and a period,
// and renders the results as CSV or as one self-contained HTML page with
// inline SVG charts (readable offline, printable). A definition whose
// query does not exist, or whose parameter has the wrong type, is refused
// at load, naming the file and line. Reports read only through the named
// query library.
package report
