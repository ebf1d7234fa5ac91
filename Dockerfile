# syntax=docker/dockerfile:1
#
# The one trailwatch binary, static (CGO_ENABLED=0, -tags nochdb), on distroless/static as
# an unprivileged user: no shell, no package manager, nothing to exec into.
# The embedded engines of `trailwatch run` need libchdb, which this image
# does not carry: in production every role talks to a real Kafka and
# ClickHouse (docker-compose.yml, deploy/k8s). docs/DEPLOY.md.
#
#   docker build -t trailwatch:dev .
#   docker run --rm trailwatch:dev --help

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION} AS build
WORKDIR /src
# Modules first, so a source change does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# -tags nochdb leaves out the dynamic loader the embedded engine needs
# (purego), so the binary is fully static and runs without a C library.
RUN CGO_ENABLED=0 GOOS=linux go build -tags nochdb -trimpath \
      -ldflags "-s -w" \
      -o /out/trailwatch ./cmd/trailwatch \
 && /out/trailwatch --help >/dev/null

FROM gcr.io/distroless/static-debian12:nonroot
# The shipped rule pack, where detect.rules points in deploy/config/detect.yaml.
COPY --from=build /src/rules /etc/trailwatch/rules
COPY --from=build /out/trailwatch /usr/local/bin/trailwatch
# 65532 is distroless's nonroot user; data_dir must be a writable volume.
USER 65532:65532
WORKDIR /var/lib/trailwatch
ENV TRAILWATCH_DATA_DIR=/var/lib/trailwatch
# 8088: ingest http; 9464: /metrics, /healthz, /readyz of every role;
# 8443: the responder's approval API when respond.api.listen is set.
EXPOSE 8088 9464 8443
ENTRYPOINT ["/usr/local/bin/trailwatch"]
CMD ["--help"]
