package deploy

import (
	"bytes"
	"debug/elf"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"gopkg.in/yaml.v3"
)

// The binary the images run: built as the Dockerfile builds it.
var binary struct {
	once sync.Once
	path string
	err  error
}

// dockerBuildFlags reads the go build line of the Dockerfile: the test
// builds with the same environment and tags, so what it checks is what the
// image ships.
func dockerBuildFlags(t *testing.T) (env []string, tags string) {
	t.Helper()
	b, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	line := regexp.MustCompile(`RUN ((?:[A-Z_]+=\S+ )*)go build ([^\n\\]*)`).FindSubmatch(b)
	if line == nil {
		t.Fatal("Dockerfile: no RUN … go build line")
	}
	env = strings.Fields(string(line[1]))
	if m := regexp.MustCompile(`-tags (\S+)`).FindSubmatch(line[2]); m != nil {
		tags = string(m[1])
	}
	return env, tags
}

func trailwatchBinary(t *testing.T) string {
	t.Helper()
	env, tags := dockerBuildFlags(t)
	binary.once.Do(func() {
		dir, err := os.MkdirTemp("", "trailwatch-deploy-test-")
		if err != nil {
			binary.err = err
			return
		}
		binary.path = filepath.Join(dir, "trailwatch")
		args := []string{"build", "-o", binary.path}
		if tags != "" {
			args = append(args, "-tags", tags)
		}
		cmd := exec.Command("go", append(args, "../cmd/trailwatch")...)
		cmd.Env = append(os.Environ(), env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			binary.err = fmt.Errorf("go build (as the Dockerfile): %v\n%s", err, out)
		}
	})
	if binary.err != nil {
		t.Fatal(binary.err)
	}
	return binary.path
}

// TestDockerfileBinaryIsStatic: the final image is distroless/static (no C
// library, no loader), so the binary must be fully static, built by a
// non-root user's image.
func TestDockerfileBinaryIsStatic(t *testing.T) {
	b, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	src := string(b)
	env, _ := dockerBuildFlags(t)
	if !strings.Contains(strings.Join(env, " "), "CGO_ENABLED=0") {
		t.Errorf("Dockerfile builds with %v, want CGO_ENABLED=0", env)
	}
	froms := regexp.MustCompile(`(?m)^FROM (\S+)`).FindAllStringSubmatch(src, -1)
	final := froms[len(froms)-1][1]
	if !strings.HasPrefix(final, "gcr.io/distroless/static") {
		t.Errorf("final image %s, want distroless/static (no shell)", final)
	}
	users := regexp.MustCompile(`(?m)^USER (\S+)`).FindAllStringSubmatch(src, -1)
	if len(users) == 0 || strings.HasPrefix(users[len(users)-1][1], "0") || strings.HasPrefix(users[len(users)-1][1], "root") {
		t.Errorf("the image must end with a non-root USER, got %v", users)
	}
	f, err := elf.Open(trailwatchBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Fatalf("the binary built as the Dockerfile builds it is dynamically linked (program header %v): it cannot start on distroless/static", p.Type)
		}
	}
}

// compose is the part of docker-compose.yml the test reads.
type compose struct {
	Services map[string]service `yaml:"services"`
	Secrets  map[string]struct {
		File string `yaml:"file"`
	} `yaml:"secrets"`
	Volumes map[string]any `yaml:"volumes"`
}

type service struct {
	Image       string         `yaml:"image"`
	Build       any            `yaml:"build"`
	Command     []string       `yaml:"command"`
	Entrypoint  []string       `yaml:"entrypoint"`
	Environment map[string]any `yaml:"environment"`
	Ports       []string       `yaml:"ports"`
	Volumes     []string       `yaml:"volumes"`
	Secrets     []string       `yaml:"secrets"`
	DependsOn   yaml.Node      `yaml:"depends_on"`
	ReadOnly    bool           `yaml:"read_only"`
	Healthcheck map[string]any `yaml:"healthcheck"`
}

func (s service) dependsOn() []string {
	var out []string
	switch s.DependsOn.Kind {
	case yaml.SequenceNode:
		for _, n := range s.DependsOn.Content {
			out = append(out, n.Value)
		}
	case yaml.MappingNode:
		for i := 0; i < len(s.DependsOn.Content); i += 2 {
			out = append(out, s.DependsOn.Content[i].Value)
		}
	}
	return out
}

// mounts maps a container path to the host path (relative to the
// repository) of the service's bind mounts.
func (s service) mounts() map[string]string {
	m := map[string]string{}
	for _, v := range s.Volumes {
		parts := strings.Split(v, ":")
		if len(parts) >= 2 && strings.HasPrefix(parts[0], ".") {
			m[parts[1]] = parts[0]
		}
	}
	return m
}

func (s service) isTrailwatch() bool { return strings.HasPrefix(s.Image, "trailwatch") }

func loadCompose(t *testing.T) compose {
	t.Helper()
	b, err := os.ReadFile("../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var c compose
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	if len(c.Services) == 0 {
		t.Fatal("docker-compose.yml: no services")
	}
	return c
}

// commandPath splits a command into its subcommand path (the leading
// words) and the rest (flags and their values).
func commandPath(args []string) (path, rest []string) {
	for i, a := range args {
		if strings.HasPrefix(a, "-") {
			return args[:i], args[i:]
		}
	}
	return args, nil
}

// checkCommand runs the binary with the command and --help: cobra parses
// every flag (an unknown one, or a missing value, fails) and prints the
// usage of the command it found, whose path must be the whole subcommand
// path (cobra would otherwise take a misspelt subcommand for an argument).
func checkCommand(t *testing.T, bin, where string, args []string) {
	t.Helper()
	path, _ := commandPath(args)
	cmd := exec.Command(bin, append(append([]string{}, args...), "--help")...)
	cmd.Env = []string{"HOME=" + t.TempDir()}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("%s: trailwatch %s: %v\n%s", where, strings.Join(args, " "), err, out)
		return
	}
	want := "trailwatch " + strings.Join(path, " ")
	usage := regexp.MustCompile(`(?m)^Usage:\n\s+(.*)$`).FindSubmatch(out)
	if usage == nil || !strings.HasPrefix(string(usage[1])+" ", want+" ") || bytes.Contains(out, []byte("Available Commands:")) {
		t.Errorf("%s: %q is not a runnable subcommand of trailwatch:\n%s", where, strings.Join(path, " "), out)
	}
}

// flagValue returns the value of --name in args.
func flagValue(args []string, name string) string {
	for i, a := range args {
		if a == "--"+name && i+1 < len(args) {
			return args[i+1]
		}
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v
		}
	}
	return ""
}

// roleConfig is the part of a role's configuration the port checks read.
type roleConfig struct {
	Metrics struct {
		Listen string `yaml:"listen"`
	} `yaml:"metrics"`
	Kafka struct {
		Brokers []string `yaml:"brokers"`
	} `yaml:"kafka"`
	ClickHouse struct {
		URL string `yaml:"url"`
	} `yaml:"clickhouse"`
	Ingest struct {
		HTTP struct {
			Listen string `yaml:"listen"`
		} `yaml:"http"`
	} `yaml:"ingest"`
	Detect struct {
		Group string `yaml:"group"`
	} `yaml:"detect"`
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// secretPaths lists every /run/secrets/… file a configuration names
// (outside comments).
func secretPaths(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		out = append(out, secretPathRe.FindAllString(line, -1)...)
	}
	return out
}

var secretPathRe = regexp.MustCompile(`/run/secrets/[A-Za-z0-9._/-]+`)

// configCheck loads a configuration file with the binary's own loader.
func configCheck(t *testing.T, bin, where, file string) {
	t.Helper()
	cmd := exec.Command(bin, "config", "check", "--config", file)
	cmd.Env = []string{"HOME=" + t.TempDir()}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("%s: trailwatch config check --config %s: %v\n%s", where, file, err, out)
	}
}

func hostPort(t *testing.T, where, addr string) (string, string) {
	t.Helper()
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Errorf("%s: %q is not host:port: %v", where, addr, err)
	}
	return h, p
}

// TestCompose checks docker-compose.yml against the binary and the files
// it mounts; docs/DEPLOY.md says what only a Docker engine could check.
func TestCompose(t *testing.T) {
	c := loadCompose(t)
	bin := trailwatchBinary(t)

	// Every trailwatch service: a real subcommand with flags the binary
	// accepts, its configuration mounted and valid, the secrets it names
	// mounted.
	configs := map[string]roleConfig{} // by service
	for _, name := range sortedKeys(c.Services) {
		s := c.Services[name]
		for _, dep := range s.dependsOn() {
			if _, ok := c.Services[dep]; !ok {
				t.Errorf("service %s depends on %s, which is not a service", name, dep)
			}
		}
		for _, sec := range s.Secrets {
			if _, ok := c.Secrets[sec]; !ok {
				t.Errorf("service %s mounts secret %s, which is not defined", name, sec)
			}
		}
		for container, host := range s.mounts() {
			if _, err := os.Stat(filepath.Join("..", host)); err != nil {
				t.Errorf("service %s mounts %s at %s: %v", name, host, container, err)
			}
		}
		if !s.isTrailwatch() {
			continue
		}
		if len(s.Command) == 0 {
			t.Errorf("service %s: no command", name)
			continue
		}
		if !s.ReadOnly {
			t.Errorf("service %s: a trailwatch container runs with a read-only root file system", name)
		}
		checkCommand(t, bin, "service "+name, s.Command)
		mounted := map[string]bool{}
		for _, sec := range s.Secrets {
			mounted["/run/secrets/"+sec] = true
		}
		if tf := flagValue(s.Command, "token-file"); tf != "" && !mounted[tf] {
			t.Errorf("service %s: --token-file %s is not a mounted secret", name, tf)
		}
		cfgPath := flagValue(s.Command, "config")
		if cfgPath == "" {
			continue
		}
		host, ok := s.mounts()[cfgPath]
		if !ok {
			t.Errorf("service %s: --config %s is not mounted from the repository", name, cfgPath)
			continue
		}
		file := filepath.Join("..", host)
		configCheck(t, bin, "service "+name, file)
		for _, p := range secretPaths(t, file) {
			if !mounted[p] {
				t.Errorf("service %s: %s names %s, which is not a mounted secret", name, host, p)
			}
		}
		var rc roleConfig
		readYAML(t, file, &rc)
		configs[name] = rc
	}

	// Secrets come from files scripts/compose-secrets.sh creates.
	script, err := os.ReadFile("../scripts/compose-secrets.sh")
	if err != nil {
		t.Fatal(err)
	}
	for name, sec := range c.Secrets {
		base := filepath.Base(sec.File)
		if filepath.Dir(sec.File) != "deploy/secrets" || !bytes.Contains(script, []byte(strings.TrimSuffix(base, ".pem"))) {
			t.Errorf("secret %s: %s is not one scripts/compose-secrets.sh creates under deploy/secrets", name, sec.File)
		}
	}

	// Ports and addresses agree.
	ingest := configs["ingest"]
	_, ingestPort := hostPort(t, "ingest.http.listen", ingest.Ingest.HTTP.Listen)
	sim := c.Services["simulator"]
	u, err := url.Parse(flagValue(sim.Command, "http"))
	if err != nil || u.Hostname() != "ingest" || u.Port() != ingestPort {
		t.Errorf("the simulator posts to %q (%v), want http://ingest:%s (ingest.http.listen)", flagValue(sim.Command, "http"), err, ingestPort)
	}
	if !publishes(c.Services["ingest"], ingestPort) {
		t.Errorf("ingest does not publish its listen port %s", ingestPort)
	}
	kafkaListen := fmt.Sprint(c.Services["kafka"].Environment["KAFKA_ADVERTISED_LISTENERS"])
	for name, rc := range configs {
		for _, b := range rc.Kafka.Brokers {
			if !strings.Contains(kafkaListen, "//"+b) {
				t.Errorf("service %s: broker %s is not one the kafka service advertises (%s)", name, b, kafkaListen)
			}
		}
		if rc.ClickHouse.URL != "" {
			u, err := url.Parse(rc.ClickHouse.URL)
			if err != nil || u.Hostname() != "clickhouse" || u.Port() != "8123" || u.Scheme != "http" {
				t.Errorf("service %s: clickhouse.url %s, want http://clickhouse:8123 (the clickhouse service's HTTP interface)", name, rc.ClickHouse.URL)
			}
		}
	}
	if !publishes(c.Services["clickhouse"], "8123") {
		t.Error("clickhouse does not publish 8123, the HTTP port the roles and make e2e use")
	}
	// make e2e reaches Kafka from the host on the address scripts/e2e.sh
	// documents.
	e2e, err := os.ReadFile("../scripts/e2e.sh")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`TRAILWATCH_E2E_KAFKA_BROKERS=(localhost:(\d+))`).FindSubmatch(e2e)
	if m == nil {
		t.Error("scripts/e2e.sh does not document TRAILWATCH_E2E_KAFKA_BROKERS=localhost:PORT")
	} else if !strings.Contains(kafkaListen, "//"+string(m[1])) || !publishes(c.Services["kafka"], string(m[2])) {
		t.Errorf("scripts/e2e.sh points at %s, which the kafka service does not advertise and publish (%s)", m[1], kafkaListen)
	}

	// Two detectors in one consumer group.
	groups := map[string]int{}
	for name, s := range c.Services {
		if s.isTrailwatch() && len(s.Command) > 0 && s.Command[0] == "detect" {
			g := configs[name].Detect.Group
			if v := flagValue(s.Command, "group"); v != "" {
				g = v
			}
			groups[g]++
		}
	}
	if len(groups) != 1 || groups[configs["detect-1"].Detect.Group] < 2 {
		t.Errorf("detectors per consumer group: %v, want two or more in one group", groups)
	}

	// Prometheus scrapes each role's metrics.listen port.
	var prom struct {
		ScrapeConfigs []struct {
			JobName       string `yaml:"job_name"`
			StaticConfigs []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	readYAML(t, "prometheus/prometheus.yml", &prom)
	scraped := map[string]bool{}
	for _, sc := range prom.ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			for _, target := range st.Targets {
				h, p := hostPort(t, "prometheus target", target)
				rc, ok := configs[h]
				if !ok {
					t.Errorf("prometheus scrapes %s, which is not a trailwatch service", target)
					continue
				}
				if _, mp := hostPort(t, h+" metrics.listen", rc.Metrics.Listen); mp != p {
					t.Errorf("prometheus scrapes %s, but %s's metrics.listen is %s", target, h, rc.Metrics.Listen)
				}
				scraped[h] = true
			}
		}
	}
	for name, rc := range configs {
		if rc.Metrics.Listen != "" && !scraped[name] {
			t.Errorf("service %s serves metrics on %s but prometheus does not scrape it", name, rc.Metrics.Listen)
		}
	}

	// Grafana's data sources reach the clickhouse service with the user the
	// init script creates, and the dashboards' uids.
	var ds struct {
		Datasources []struct {
			UID      string            `yaml:"uid"`
			Type     string            `yaml:"type"`
			URL      string            `yaml:"url"`
			JSONData map[string]any    `yaml:"jsonData"`
			Secure   map[string]string `yaml:"secureJsonData"`
		} `yaml:"datasources"`
	}
	readYAML(t, "grafana/provisioning/datasources/trailwatch.yaml", &ds)
	uids := map[string]bool{}
	initdb, err := os.ReadFile("clickhouse/trailwatch-users.sh")
	if err != nil {
		t.Fatal(err)
	}
	grafana := c.Services["grafana"]
	for _, d := range ds.Datasources {
		uids[d.Type+"/"+d.UID] = true
		switch d.Type {
		case clickhouseType:
			if d.JSONData["host"] != "clickhouse" || fmt.Sprint(d.JSONData["port"]) != "8123" || d.JSONData["protocol"] != "http" {
				t.Errorf("ClickHouse data source reaches %v:%v over %v, want clickhouse:8123 over http", d.JSONData["host"], d.JSONData["port"], d.JSONData["protocol"])
			}
			user := fmt.Sprint(d.JSONData["username"])
			if !bytes.Contains(initdb, []byte("CREATE USER IF NOT EXISTS "+user+" ")) {
				t.Errorf("the ClickHouse data source's user %s is not created by the init script", user)
			}
			if m := regexp.MustCompile(`\$__file\{/run/secrets/([^}]+)\}`).FindStringSubmatch(d.Secure["password"]); m == nil || !contains(grafana.Secrets, m[1]) {
				t.Errorf("the ClickHouse data source's password %q is not a secret mounted in grafana", d.Secure["password"])
			}
		case prometheusType:
			u, err := url.Parse(d.URL)
			if _, ok := c.Services[u.Hostname()]; err != nil || !ok || u.Port() != "9090" {
				t.Errorf("the Prometheus data source's url %s is not the prometheus service", d.URL)
			}
		}
	}
	if !uids[clickhouseType+"/"+clickhouseUID] || !uids[prometheusType+"/"+prometheusUID] {
		t.Errorf("provisioned data sources %v lack the uids the dashboards use", uids)
	}
	// The administrator is the user the clickhouse image's entrypoint
	// creates (CLICKHOUSE_USER, replacing the passwordless default user),
	// its password read from the secret; the other users are the ones the
	// users script creates.
	ch := c.Services["clickhouse"]
	admin := fmt.Sprint(ch.Environment["CLICKHOUSE_USER"])
	if admin == "" || admin == "default" || admin == "<nil>" || !contains(ch.Secrets, "clickhouse-admin-password") ||
		!strings.Contains(composeUnescape(strings.Join(ch.Entrypoint, " ")), "CLICKHOUSE_PASSWORD=$(cat /run/secrets/clickhouse-admin-password)") {
		t.Errorf("clickhouse: the administrator must be a named user (CLICKHOUSE_USER %q) with the password of the secret clickhouse-admin-password, never the passwordless default", admin)
	}
	for _, f := range []string{"config/sink.yaml", "config/migrate.yaml"} {
		var cfg struct {
			ClickHouse struct {
				User string `yaml:"user"`
			} `yaml:"clickhouse"`
		}
		readYAML(t, f, &cfg)
		if cfg.ClickHouse.User != admin && !bytes.Contains(initdb, []byte("CREATE USER IF NOT EXISTS "+cfg.ClickHouse.User+" ")) {
			t.Errorf("%s connects as %q, which the init script does not create", f, cfg.ClickHouse.User)
		}
	}
}

// publishes reports whether a service publishes container port port.
func publishes(s service, port string) bool {
	for _, p := range s.Ports {
		parts := strings.Split(p, ":")
		if parts[len(parts)-1] == port {
			return true
		}
	}
	return false
}

// composeUnescape undoes compose's escape of a literal dollar ($$).
func composeUnescape(s string) string { return strings.ReplaceAll(s, "$$", "$") }
