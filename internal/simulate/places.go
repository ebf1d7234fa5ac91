package simulate

import (
	"fmt"
	"math"
	"strconv"
)

// Place is a city: where people live and work, where attackers' proxies
// and integrations' data centres are. Addresses in a place share its
// network's first two octets, so one address always geolocates to one
// place, as a GeoIP database would say.
type Place struct {
	Country string
	City    string
	Lat     float64
	Lon     float64
	Zone    string
	net     [2]byte // residential and office addresses: net.x.y
	dc      [2]byte // data-centre and proxy addresses
}

// places is the atlas. Networks are invented but public (no private,
// loopback, CGNAT or documentation ranges), distinct per city.
var places = []*Place{
	{"US", "New York", 40.71, -74.01, "America/New_York", [2]byte{73, 10}, [2]byte{54, 10}},
	{"US", "Boston", 42.36, -71.06, "America/New_York", [2]byte{73, 11}, [2]byte{54, 11}},
	{"US", "Chicago", 41.88, -87.63, "America/Chicago", [2]byte{73, 12}, [2]byte{54, 12}},
	{"US", "Denver", 39.74, -104.99, "America/Denver", [2]byte{73, 13}, [2]byte{54, 13}},
	{"US", "San Francisco", 37.77, -122.42, "America/Los_Angeles", [2]byte{73, 14}, [2]byte{54, 14}},
	{"US", "Austin", 30.27, -97.74, "America/Chicago", [2]byte{73, 15}, [2]byte{54, 15}},
	{"US", "Seattle", 47.61, -122.33, "America/Los_Angeles", [2]byte{73, 16}, [2]byte{54, 16}},
	{"CA", "Toronto", 43.65, -79.38, "America/Toronto", [2]byte{99, 20}, [2]byte{35, 20}},
	{"CA", "Montreal", 45.50, -73.57, "America/Toronto", [2]byte{99, 21}, [2]byte{35, 21}},
	{"MX", "Mexico City", 19.43, -99.13, "America/Mexico_City", [2]byte{187, 22}, [2]byte{189, 22}},
	{"BR", "São Paulo", -23.55, -46.63, "America/Sao_Paulo", [2]byte{177, 23}, [2]byte{191, 23}},
	{"GB", "London", 51.51, -0.13, "Europe/London", [2]byte{81, 30}, [2]byte{18, 30}},
	{"GB", "Manchester", 53.48, -2.24, "Europe/London", [2]byte{81, 31}, [2]byte{18, 31}},
	{"IE", "Dublin", 53.35, -6.26, "Europe/Dublin", [2]byte{86, 32}, [2]byte{52, 32}},
	{"DE", "Berlin", 52.52, 13.40, "Europe/Berlin", [2]byte{84, 40}, [2]byte{85, 40}},
	{"DE", "Munich", 48.14, 11.58, "Europe/Berlin", [2]byte{84, 41}, [2]byte{85, 41}},
	{"DE", "Hamburg", 53.55, 9.99, "Europe/Berlin", [2]byte{84, 42}, [2]byte{85, 42}},
	{"DE", "Frankfurt", 50.11, 8.68, "Europe/Berlin", [2]byte{84, 43}, [2]byte{85, 43}},
	{"FR", "Paris", 48.86, 2.35, "Europe/Paris", [2]byte{90, 44}, [2]byte{51, 44}},
	{"FR", "Lyon", 45.76, 4.84, "Europe/Paris", [2]byte{90, 45}, [2]byte{51, 45}},
	{"NL", "Amsterdam", 52.37, 4.90, "Europe/Amsterdam", [2]byte{83, 46}, [2]byte{37, 46}},
	{"ES", "Madrid", 40.42, -3.70, "Europe/Madrid", [2]byte{88, 47}, [2]byte{37, 47}},
	{"IT", "Milan", 45.46, 9.19, "Europe/Rome", [2]byte{93, 48}, [2]byte{37, 48}},
	{"PL", "Warsaw", 52.23, 21.01, "Europe/Warsaw", [2]byte{83, 49}, [2]byte{46, 49}},
	{"CH", "Zurich", 47.38, 8.54, "Europe/Zurich", [2]byte{83, 50}, [2]byte{46, 50}},
	{"AT", "Vienna", 48.21, 16.37, "Europe/Vienna", [2]byte{83, 51}, [2]byte{46, 51}},
	{"RO", "Bucharest", 44.43, 26.10, "Europe/Bucharest", [2]byte{86, 52}, [2]byte{46, 52}},
	{"UA", "Kyiv", 50.45, 30.52, "Europe/Kyiv", [2]byte{93, 53}, [2]byte{46, 53}},
	{"RU", "Moscow", 55.76, 37.62, "Europe/Moscow", [2]byte{95, 54}, [2]byte{45, 54}},
	{"TR", "Istanbul", 41.01, 28.98, "Europe/Istanbul", [2]byte{88, 55}, [2]byte{45, 55}},
	{"NG", "Lagos", 6.52, 3.38, "Africa/Lagos", [2]byte{102, 60}, [2]byte{105, 60}},
	{"ZA", "Johannesburg", -26.20, 28.05, "Africa/Johannesburg", [2]byte{102, 61}, [2]byte{105, 61}},
	{"AE", "Dubai", 25.20, 55.27, "Asia/Dubai", [2]byte{94, 62}, [2]byte{45, 62}},
	{"IL", "Tel Aviv", 32.09, 34.78, "Asia/Jerusalem", [2]byte{109, 63}, [2]byte{45, 63}},
	{"IL", "Haifa", 32.79, 34.99, "Asia/Jerusalem", [2]byte{109, 64}, [2]byte{45, 64}},
	{"IL", "Jerusalem", 31.77, 35.21, "Asia/Jerusalem", [2]byte{109, 65}, [2]byte{45, 65}},
	{"IN", "Bengaluru", 12.97, 77.59, "Asia/Kolkata", [2]byte{49, 70}, [2]byte{13, 70}},
	{"IN", "Mumbai", 19.08, 72.88, "Asia/Kolkata", [2]byte{49, 71}, [2]byte{13, 71}},
	{"SG", "Singapore", 1.35, 103.82, "Asia/Singapore", [2]byte{116, 72}, [2]byte{13, 72}},
	{"CN", "Shenzhen", 22.54, 114.06, "Asia/Shanghai", [2]byte{113, 73}, [2]byte{47, 73}},
	{"HK", "Hong Kong", 22.32, 114.17, "Asia/Hong_Kong", [2]byte{112, 74}, [2]byte{47, 74}},
	{"VN", "Hanoi", 21.03, 105.85, "Asia/Ho_Chi_Minh", [2]byte{113, 75}, [2]byte{103, 75}},
	{"ID", "Jakarta", -6.21, 106.85, "Asia/Jakarta", [2]byte{114, 76}, [2]byte{103, 76}},
	{"KR", "Seoul", 37.57, 126.98, "Asia/Seoul", [2]byte{121, 77}, [2]byte{43, 77}},
	{"JP", "Tokyo", 35.68, 139.69, "Asia/Tokyo", [2]byte{126, 78}, [2]byte{43, 78}},
	{"JP", "Osaka", 34.69, 135.50, "Asia/Tokyo", [2]byte{126, 79}, [2]byte{43, 79}},
	{"JP", "Fukuoka", 33.59, 130.40, "Asia/Tokyo", [2]byte{126, 80}, [2]byte{43, 80}},
	{"AU", "Sydney", -33.87, 151.21, "Australia/Sydney", [2]byte{1, 81}, [2]byte{3, 81}},
	{"AU", "Melbourne", -37.81, 144.96, "Australia/Melbourne", [2]byte{1, 82}, [2]byte{3, 82}},
}

// attackerCities are where credential attacks and scraping come from:
// proxies and hosting in these cities.
var attackerCities = []string{"Moscow", "Lagos", "São Paulo", "Bucharest", "Hanoi", "Shenzhen", "Kyiv", "Jakarta", "Istanbul", "Johannesburg", "Mumbai"}

// placeByCity indexes the atlas (city names are unique: TestAtlas).
var placeByCity = func() map[string]*Place {
	m := make(map[string]*Place, len(places))
	for _, p := range places {
		m[p.City] = p
	}
	return m
}()

// lookupPlace returns the place of a city name, or an error naming it.
func lookupPlace(city string) (*Place, error) {
	if p := placeByCity[city]; p != nil {
		return p, nil
	}
	return nil, fmt.Errorf("unknown city %q (the atlas has %s)", city, cityList())
}

func cityList() string {
	s := ""
	for i, p := range places {
		if i > 0 {
			s += ", "
		}
		s += p.City
	}
	return s
}

// residentialIP is the address number n of the place's residential and
// office network.
func (p *Place) residentialIP(n uint32) string { return ipIn(p.net, n) }

// datacenterIP is the address number n of the place's hosting network.
func (p *Place) datacenterIP(n uint32) string { return ipIn(p.dc, n) }

func ipIn(net [2]byte, n uint32) string {
	x := byte(n >> 8 % 254)
	y := byte(n%253) + 1
	return strconv.Itoa(int(net[0])) + "." + strconv.Itoa(int(net[1])) + "." + strconv.Itoa(int(x)+1) + "." + strconv.Itoa(int(y))
}

// distanceKm is the great-circle distance between two places.
func distanceKm(a, b *Place) float64 {
	const r = 6371.0
	rad := math.Pi / 180
	dlat := (b.Lat - a.Lat) * rad
	dlon := (b.Lon - a.Lon) * rad
	h := math.Sin(dlat/2)*math.Sin(dlat/2) + math.Cos(a.Lat*rad)*math.Cos(b.Lat*rad)*math.Sin(dlon/2)*math.Sin(dlon/2)
	return 2 * r * math.Asin(math.Min(1, math.Sqrt(h)))
}
