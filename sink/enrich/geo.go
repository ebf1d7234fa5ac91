package enrich

import (
	"fmt"
	"net/netip"

	"github.com/oschwald/maxminddb-golang/v2"
)

// Location is what a geo database says about an address.
type Location struct {
	Country   string // ISO 3166-1 alpha-2
	Region    string // first subdivision's ISO code
	City      string // English name
	Lat, Lon  float64
	HasCoords bool
}

// cityRecord is the part of a GeoIP2/GeoLite2 City record we read.
type cityRecord struct {
	Country struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"country"`
	Subdivisions []struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"subdivisions"`
	City struct {
		Names map[string]string `maxminddb:"names"`
	} `maxminddb:"city"`
	Location struct {
		Latitude  *float64 `maxminddb:"latitude"`
		Longitude *float64 `maxminddb:"longitude"`
	} `maxminddb:"location"`
}

// maxCache bounds the look-up cache; it is emptied when full.
const maxCache = 1 << 16

// Geo looks addresses up in a MaxMind-format database. It is not safe for
// concurrent use (the sink enriches on one goroutine).
type Geo struct {
	db    *maxminddb.Reader
	cache map[netip.Addr]Location
}

// OpenGeo opens the database at path (memory-mapped).
func OpenGeo(path string) (*Geo, error) {
	db, err := maxminddb.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening geo database %s: %w", path, err)
	}
	return &Geo{db: db, cache: map[netip.Addr]Location{}}, nil
}

// Lookup returns where ip is, and false when the database does not know
// (or the address is private, reserved or invalid).
func (g *Geo) Lookup(ip netip.Addr) (Location, bool) {
	if !ip.IsValid() {
		return Location{}, false
	}
	ip = ip.Unmap()
	if loc, ok := g.cache[ip]; ok {
		return loc, loc.Country != "" || loc.HasCoords
	}
	var rec cityRecord
	var loc Location
	if err := g.db.Lookup(ip).Decode(&rec); err == nil {
		loc.Country = rec.Country.ISOCode
		if len(rec.Subdivisions) > 0 {
			loc.Region = rec.Subdivisions[0].ISOCode
		}
		loc.City = rec.City.Names["en"]
		if rec.Location.Latitude != nil && rec.Location.Longitude != nil {
			loc.Lat, loc.Lon, loc.HasCoords = *rec.Location.Latitude, *rec.Location.Longitude, true
		}
	}
	if len(g.cache) >= maxCache {
		clear(g.cache)
	}
	g.cache[ip] = loc
	return loc, loc.Country != "" || loc.HasCoords
}

// Close releases the database.
func (g *Geo) Close() error { return g.db.Close() }
