// Package deploy holds no code: it is the home of the deployment artefacts
// (Grafana dashboards and provisioning, the per-role configuration files,
// docker compose and Kubernetes manifests) and of the tests that check
// them against the code they deploy. The tests run every dashboard panel's
// SQL on a migrated ClickHouse loaded with simulated activity, parse
// docker-compose.yml and the Kubernetes manifests and check each against
// the binary's commands, flags, configuration loader and ports. What they
// cannot check without a Docker engine is listed in docs/DEPLOY.md.
package deploy
