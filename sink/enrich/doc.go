// Package enrich adds what the source did not say to stored events: the
// location of an address from a MaxMind-format (GeoIP2/GeoLite2 City)
// database, and directory attributes (role, department, manager) from a
// file. Both are plain look-ups, loaded once; identity resolution proper
// happens at ingest.
package enrich
