# MediaStreamer: build stage (Rust toolchain) + small runtime stage (Debian slim with ffmpeg).
#   docker build -t mediastreamer .
# The base images are build arguments so that a mirror or a locally made image can stand in.
ARG BUILDER_IMAGE=rust:1-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${BUILDER_IMAGE} AS build
# The Opus encoder links the system libopus (found through pkg-config).
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libopus-dev pkg-config \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb
WORKDIR /src
# The dependencies first, in a layer of their own that source changes do not invalidate.
COPY Cargo.toml Cargo.lock ./
# Every [[bin]] of Cargo.toml needs a placeholder too, or the manifest does not load.
RUN mkdir -p src/bin && echo 'fn main() {}' >src/main.rs && touch src/lib.rs \
    && for bin in $(sed -n '/^\[\[bin\]\]/,/^name/s/^name = "\(.*\)"/\1/p' Cargo.toml); do \
         echo 'fn main() {}' >"src/bin/$bin.rs"; done \
    && cargo build --release --locked --bin mediastreamer \
    && rm -rf src
COPY . .
# touch: the real sources may be older than the placeholder build.
RUN touch src/main.rs src/lib.rs \
    && cargo build --release --locked --bin mediastreamer \
    && install -m 0755 target/release/mediastreamer /usr/local/bin/mediastreamer

FROM ${RUNTIME_IMAGE}
# ffmpeg decodes the formats the built-in decoders cannot (Opus, WavPack, Monkey's Audio...);
# libopus0 is the Opus encoder the server links.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ffmpeg libopus0 \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb
# The server runs as this user; /data (database, key files, caches) belongs to it.
ARG UID=1000
ARG GID=1000
RUN groupadd --gid "${GID}" mediastreamer \
    && useradd --uid "${UID}" --gid "${GID}" --home-dir /data --no-create-home \
       --shell /usr/sbin/nologin mediastreamer \
    && mkdir -p /data /music /etc/mediastreamer \
    && chown "${UID}:${GID}" /data
COPY docker/config.toml /etc/mediastreamer/config.toml
COPY --from=build /usr/local/bin/mediastreamer /usr/local/bin/mediastreamer
# The configuration: the file above (mount your own over it), then MEDIASTREAMER_SECTION__KEY
# variables, which override it key by key.
ENV MEDIASTREAMER_CONFIG=/etc/mediastreamer/config.toml
USER ${UID}:${GID}
WORKDIR /data
VOLUME ["/data"]
EXPOSE 4533
# No curl in the image: bash's /dev/tcp asks /health (200 while the database answers).
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/4533 && printf 'GET /health HTTP/1.0\\r\\n\\r\\n' >&3 && head -n1 <&3 | grep -q ' 200 '"]
# SIGTERM (docker stop) stops the server cleanly; a running scan stops at a batch boundary.
STOPSIGNAL SIGTERM
ENTRYPOINT ["mediastreamer"]
CMD ["serve"]
