package deploy

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The parts of Kubernetes objects the test reads.
type k8sObject struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Spec struct {
		Replicas *int `yaml:"replicas"`
		Template struct {
			Spec podSpec `yaml:"spec"`
		} `yaml:"template"`
		Selector any `yaml:"selector"`
		Ports    []struct {
			Name       string `yaml:"name"`
			TargetPort any    `yaml:"targetPort"`
		} `yaml:"ports"`
	} `yaml:"spec"`
}

type podSpec struct {
	AutomountServiceAccountToken *bool `yaml:"automountServiceAccountToken"`
	SecurityContext              struct {
		RunAsNonRoot *bool `yaml:"runAsNonRoot"`
		RunAsUser    *int  `yaml:"runAsUser"`
	} `yaml:"securityContext"`
	Containers []container `yaml:"containers"`
	Volumes    []struct {
		Name      string `yaml:"name"`
		ConfigMap *struct {
			Name string `yaml:"name"`
		} `yaml:"configMap"`
		Secret *struct {
			SecretName string `yaml:"secretName"`
			Items      []struct {
				Key  string `yaml:"key"`
				Path string `yaml:"path"`
			} `yaml:"items"`
		} `yaml:"secret"`
	} `yaml:"volumes"`
}

type container struct {
	Name  string   `yaml:"name"`
	Image string   `yaml:"image"`
	Args  []string `yaml:"args"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	ReadinessProbe *probe `yaml:"readinessProbe"`
	LivenessProbe  *probe `yaml:"livenessProbe"`
	Resources      struct {
		Requests map[string]string `yaml:"requests"`
		Limits   map[string]string `yaml:"limits"`
	} `yaml:"resources"`
	SecurityContext struct {
		AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
		ReadOnlyRootFilesystem   *bool `yaml:"readOnlyRootFilesystem"`
		Capabilities             struct {
			Drop []string `yaml:"drop"`
		} `yaml:"capabilities"`
	} `yaml:"securityContext"`
	VolumeMounts []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
	} `yaml:"volumeMounts"`
}

type probe struct {
	HTTPGet *struct {
		Path string `yaml:"path"`
		Port any    `yaml:"port"`
	} `yaml:"httpGet"`
}

// containerPort resolves a probe's or Service's port: a number or a
// container port's name.
func (c container) containerPort(p any) string {
	switch v := p.(type) {
	case int:
		return itoa(v)
	case string:
		for _, cp := range c.Ports {
			if cp.Name == v {
				return itoa(cp.ContainerPort)
			}
		}
	}
	return ""
}

func itoa(i int) string { return strconv.Itoa(i) }

type kustomization struct {
	Namespace          string   `yaml:"namespace"`
	Resources          []string `yaml:"resources"`
	ConfigMapGenerator []struct {
		Name  string   `yaml:"name"`
		Files []string `yaml:"files"`
	} `yaml:"configMapGenerator"`
	Images []struct {
		Name    string `yaml:"name"`
		NewName string `yaml:"newName"`
		NewTag  string `yaml:"newTag"`
	} `yaml:"images"`
}

func readObjects(t *testing.T, path string) []k8sObject {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var out []k8sObject
	for {
		var o k8sObject
		err := dec.Decode(&o)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if o.Kind == "" {
			t.Fatalf("%s: a document without a kind", path)
		}
		out = append(out, o)
	}
}

// TestKustomize checks deploy/k8s the way the compose test checks
// docker-compose.yml: every resource and generated ConfigMap's file
// exists, every configuration loads with the binary, every workload runs
// a real subcommand with its ConfigMap and Secret mounted where its
// configuration says, probes /healthz and /readyz on its metrics.listen
// port, requests resources, runs as non-root, and uses the one image the
// kustomization sets.
func TestKustomize(t *testing.T) {
	bin := trailwatchBinary(t)
	const dir = "k8s"
	var k kustomization
	readYAML(t, filepath.Join(dir, "kustomization.yaml"), &k)
	if k.Namespace == "" {
		t.Error("kustomization: no namespace")
	}
	if len(k.Images) != 1 || k.Images[0].NewName == "" || k.Images[0].NewTag == "" {
		t.Fatalf("kustomization: want one images entry with newName and newTag, got %+v", k.Images)
	}
	image := k.Images[0].Name

	// ConfigMap name -> key -> file; each file loads.
	cms := map[string]map[string]string{}
	for _, g := range k.ConfigMapGenerator {
		cms[g.Name] = map[string]string{}
		for _, f := range g.Files {
			key, file, ok := strings.Cut(f, "=")
			if !ok {
				key, file = filepath.Base(f), f
			}
			path := filepath.Join(dir, file)
			if _, err := os.Stat(path); err != nil {
				t.Errorf("configMapGenerator %s: %v", g.Name, err)
				continue
			}
			configCheck(t, bin, "ConfigMap "+g.Name, path)
			cms[g.Name][key] = path
		}
	}

	workloads := 0
	var ingestPort string
	var ingestContainer container
	var services []k8sObject
	for _, r := range k.Resources {
		for _, o := range readObjects(t, filepath.Join(dir, r)) {
			where := o.Kind + " " + o.Metadata.Name
			switch o.Kind {
			case "Service":
				services = append(services, o)
				continue
			case "Deployment", "Job":
			default:
				continue
			}
			workloads++
			ps := o.Spec.Template.Spec
			if ps.SecurityContext.RunAsNonRoot == nil || !*ps.SecurityContext.RunAsNonRoot || ps.SecurityContext.RunAsUser == nil || *ps.SecurityContext.RunAsUser == 0 {
				t.Errorf("%s: the pod must run as a non-root user (runAsNonRoot, runAsUser)", where)
			}
			if ps.AutomountServiceAccountToken == nil || *ps.AutomountServiceAccountToken {
				t.Errorf("%s: no role talks to the Kubernetes API: automountServiceAccountToken: false", where)
			}
			if len(ps.Containers) != 1 {
				t.Errorf("%s: want one container, got %d", where, len(ps.Containers))
				continue
			}
			c := ps.Containers[0]
			if c.Image != image {
				t.Errorf("%s: image %q, want %q (the kustomization's images entry)", where, c.Image, image)
			}
			sc := c.SecurityContext
			if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || !contains(sc.Capabilities.Drop, "ALL") {
				t.Errorf("%s: container securityContext must forbid privilege escalation, make the root file system read-only and drop ALL capabilities", where)
			}
			if c.Resources.Requests["cpu"] == "" || c.Resources.Requests["memory"] == "" || c.Resources.Limits["memory"] == "" {
				t.Errorf("%s: resources need cpu and memory requests and a memory limit, got %+v", where, c.Resources)
			}
			checkCommand(t, bin, where, c.Args)

			// Where the volumes are mounted.
			mountOf := map[string]string{}
			for _, m := range c.VolumeMounts {
				mountOf[m.Name] = m.MountPath
			}
			files := map[string]string{} // path in the container -> repository file ("" for a secret)
			for _, v := range ps.Volumes {
				mp, ok := mountOf[v.Name]
				switch {
				case !ok:
					t.Errorf("%s: volume %s is not mounted", where, v.Name)
				case v.ConfigMap != nil:
					keys, ok := cms[v.ConfigMap.Name]
					if !ok {
						t.Errorf("%s: ConfigMap %s is not generated by the kustomization", where, v.ConfigMap.Name)
					}
					for key, file := range keys {
						files[mp+"/"+key] = file
					}
				case v.Secret != nil:
					if len(v.Secret.Items) == 0 {
						t.Errorf("%s: Secret %s: list its items, so the keys the configuration needs are explicit", where, v.Secret.SecretName)
					}
					for _, it := range v.Secret.Items {
						files[mp+"/"+it.Path] = ""
					}
				}
			}
			cfgPath := flagValue(c.Args, "config")
			file, ok := files[cfgPath]
			if !ok || file == "" {
				t.Errorf("%s: --config %s is not a file of a mounted ConfigMap", where, cfgPath)
				continue
			}
			for _, p := range secretPaths(t, file) {
				if _, ok := files[p]; !ok {
					t.Errorf("%s: %s names %s, which no mounted Secret item provides", where, file, p)
				}
			}
			var rc roleConfig
			readYAML(t, file, &rc)
			if o.Kind == "Job" {
				continue
			}
			// Probes on the metrics port.
			_, metricsPort, err := net.SplitHostPort(rc.Metrics.Listen)
			if err != nil {
				t.Errorf("%s: metrics.listen %q: %v", where, rc.Metrics.Listen, err)
			}
			for name, pr := range map[string]struct {
				p    *probe
				path string
			}{"readinessProbe": {c.ReadinessProbe, "/readyz"}, "livenessProbe": {c.LivenessProbe, "/healthz"}} {
				if pr.p == nil || pr.p.HTTPGet == nil {
					t.Errorf("%s: no %s httpGet", where, name)
					continue
				}
				if pr.p.HTTPGet.Path != pr.path || c.containerPort(pr.p.HTTPGet.Port) != metricsPort {
					t.Errorf("%s: %s gets %s on port %v (%s), want %s on metrics.listen's port %s",
						where, name, pr.p.HTTPGet.Path, pr.p.HTTPGet.Port, c.containerPort(pr.p.HTTPGet.Port), pr.path, metricsPort)
				}
			}
			if rc.Ingest.HTTP.Listen != "" && c.Args[0] == "ingest" {
				_, ingestPort, _ = net.SplitHostPort(rc.Ingest.HTTP.Listen)
				if !hasPort(c, ingestPort) {
					t.Errorf("%s: ingest.http.listen's port %s is not a container port", where, ingestPort)
				}
				ingestContainer = c
			}
		}
	}
	if workloads < 5 {
		t.Errorf("%d workloads, want ingest, detect, sink, respond and the migrate Job", workloads)
	}
	// The ingest Service sends to ingest.http.listen's port.
	found := false
	for _, s := range services {
		if s.Metadata.Name != "trailwatch-ingest" {
			continue
		}
		found = true
		for _, p := range s.Spec.Ports {
			if got := ingestContainer.containerPort(p.TargetPort); got != ingestPort {
				t.Errorf("Service trailwatch-ingest: targetPort %v is port %s, want ingest.http.listen's %s", p.TargetPort, got, ingestPort)
			}
		}
	}
	if !found {
		t.Error("no Service trailwatch-ingest")
	}
}

func hasPort(c container, port string) bool {
	for _, p := range c.Ports {
		if itoa(p.ContainerPort) == port {
			return true
		}
	}
	return false
}

// TestKustomizeRenders renders deploy/k8s with kubectl's built-in
// kustomize, when kubectl is installed, and checks what the cluster would
// receive: the image is the kustomization's newName:newTag everywhere, and
// every ConfigMap a workload mounts is one the render contains (kustomize
// adds a content hash to generated names and must rewrite the references).
func TestKustomizeRenders(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl is not installed: the manifests are checked unrendered by TestKustomize only")
	}
	out, err := exec.Command(kubectl, "kustomize", "k8s").CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl kustomize deploy/k8s: %v\n%s", err, out)
	}
	var k kustomization
	readYAML(t, filepath.Join("k8s", "kustomization.yaml"), &k)
	wantImage := k.Images[0].NewName + ":" + k.Images[0].NewTag
	dec := yaml.NewDecoder(bytes.NewReader(out))
	configMaps := map[string]bool{}
	var workloads []k8sObject
	for {
		var o k8sObject
		if err := dec.Decode(&o); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("rendered manifests: %v", err)
		}
		switch o.Kind {
		case "ConfigMap":
			configMaps[o.Metadata.Name] = true
		case "Deployment", "Job":
			workloads = append(workloads, o)
		}
	}
	if len(workloads) < 5 {
		t.Fatalf("rendered %d workloads, want 5", len(workloads))
	}
	for _, o := range workloads {
		for _, c := range o.Spec.Template.Spec.Containers {
			if c.Image != wantImage {
				t.Errorf("%s %s: rendered image %q, want %q", o.Kind, o.Metadata.Name, c.Image, wantImage)
			}
		}
		for _, v := range o.Spec.Template.Spec.Volumes {
			if v.ConfigMap != nil && !configMaps[v.ConfigMap.Name] {
				t.Errorf("%s %s: mounts ConfigMap %s, which the render does not contain", o.Kind, o.Metadata.Name, v.ConfigMap.Name)
			}
		}
	}
}
