# Build in the Rust image, run in slim Debian as an unprivileged user.
FROM rust:1-bookworm AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends libssl-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --locked && strip target/release/syndicate

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl libssl3 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/syndicate syndicate \
    && mkdir -p /var/lib/syndicate \
    && chown syndicate /var/lib/syndicate
COPY --from=build /src/target/release/syndicate /usr/local/bin/syndicate
USER syndicate
WORKDIR /var/lib/syndicate
# The SQLite file (and anything else kept on disk) lives on this volume.
VOLUME /var/lib/syndicate
ENV SYNDICATE_BIND=0.0.0.0:8080 \
    DATABASE_URL=sqlite:///var/lib/syndicate/syndicate.db \
    SYNDICATE_LOG_FORMAT=json
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s \
    CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
STOPSIGNAL SIGTERM
ENTRYPOINT ["syndicate"]
CMD ["serve"]
