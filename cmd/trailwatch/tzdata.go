package main

// The detector evaluates business hours in IANA time zones; embedding the
// zone database means a minimal container without /usr/share/zoneinfo
// still knows them (the system database, when present, takes precedence).
import _ "time/tzdata"
