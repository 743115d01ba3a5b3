# Images of redelay's worker binary (the default target) and of the push-mode example app:
#
#   docker build -t redelay-worker .
#   docker build --target pushapp -t redelay-pushapp .
#
# docker-compose.yml builds and runs both with Redis.
ARG GO_VERSION=1.26

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ENV CGO_ENABLED=0
RUN go build -trimpath -ldflags="-s -w" -o /out/worker ./cmd/worker \
 && go build -trimpath -ldflags="-s -w" -o /out/pushapp ./examples/pushapp

# The example app: delay functions behind taskqueue.RequireSignature on :8080.
FROM gcr.io/distroless/static-debian12:nonroot AS pushapp
COPY --from=build /out/pushapp /usr/local/bin/pushapp
ENV ADDR=:8080
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/pushapp"]

# The worker: configure it with REDIS_URL, REDELAY_TARGET, REDELAY_SECRET, … (worker -h).
# GET /healthz and GET /stats on :8081.
FROM gcr.io/distroless/static-debian12:nonroot AS worker
COPY --from=build /out/worker /usr/local/bin/worker
ENV REDELAY_HTTP=:8081
EXPOSE 8081
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/worker"]
