# A plugin image that stands in for plugins/cache (drone-plugins/drone-meltwater-cache) in Drone and Harness CI
# "Save Cache to S3" / "Restore Cache From S3" steps: same PLUGIN_* settings, same object layout, same log lines.
#
#   docker build -f docker/plugin.Dockerfile -t cache-step-plugin .
#   docker run --rm -e PLUGIN_RESTORE=true -e PLUGIN_BUCKET=... -e PLUGIN_MOUNT=node_modules \
#       -e PLUGIN_CACHE_KEY='npm-{{ checksum "package-lock.json" }}' -v "$PWD:/harness" -w /harness cache-step-plugin
#
# With no subcommand, cache-step runs in plugin mode when PLUGIN_REBUILD or PLUGIN_RESTORE is set.
# (Not built by the test suite: these machines reach no container registry.)

FROM debian:12 AS build
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      g++ cmake ninja-build libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libssl-dev \
      libpugixml-dev libcli11-dev libarchive-dev liblz4-dev libzstd-dev libxxhash-dev zlib1g-dev pkgconf \
    && rm -rf /var/lib/apt/lists/*
COPY . /src
RUN cmake -S /src -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DCACHESTEP_BUILD_TESTS=OFF \
      -DCACHESTEP_BUILD_BENCH=OFF -DCACHESTEP_BUILD_EXAMPLES=OFF \
    && cmake --build /build --target cache-step \
    && cmake --install /build --component cache-step --prefix /opt/cache-step

FROM debian:12-slim
# The shared libraries cache-step links (ldd), and the CA store for TLS to S3.
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates libssl3 libpugixml1v5 libboost-url1.81.0 libboost-json1.81.0 libarchive13 zlib1g \
      libzstd1 liblz4-1 \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /opt/cache-step/bin/cache-step /bin/cache-step
ENTRYPOINT ["/bin/cache-step"]
