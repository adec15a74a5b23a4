# kubepp in one image: the five binaries, with runc, the CNI plugins, nftables, iproute2
# and conntrack for the node components, and the bundled test images (busybox,
# kubepp/testserver) that every kubelet imports. docker-compose.yml runs it.
#   docker/base-images.sh                          # debian:bookworm{,-slim}, when missing
#   docker build --network host -t kubepp/kubepp:dev .
# (--network host: apt inside the build reaches the Debian mirror the host reaches.)
FROM debian:bookworm AS build
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      g++ cmake ninja-build pkg-config libboost-dev libboost-system-dev rapidjson-dev libyaml-cpp-dev \
      libsqlite3-dev libssl-dev libarchive-dev libnftables-dev catch2 busybox-static python3 >/dev/null && \
    rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Only what the build reads: editing docker/ or scripts/ reuses this stage.
COPY CMakeLists.txt ./
COPY common common
COPY apiserver apiserver
COPY scheduler scheduler
COPY controller-manager controller-manager
COPY kubelet kubelet
COPY proxy proxy
COPY images images
COPY e2e e2e
COPY bench bench
COPY fuzz fuzz
RUN cmake -S /src -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null && \
    cmake --build /build -j "$(nproc)" --target apiserver scheduler controller-manager kubelet proxy \
      testserver_image busybox_image && \
    strip /build/bin/*

FROM debian:bookworm-slim
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      libyaml-cpp0.7 libsqlite3-0 libssl3 libarchive13 openssl ca-certificates curl \
      runc containernetworking-plugins iptables nftables iproute2 conntrack >/dev/null && \
    rm -rf /var/lib/apt/lists/*
COPY --from=build /build/bin/apiserver /build/bin/scheduler /build/bin/controller-manager \
     /build/bin/kubelet /build/bin/proxy /usr/local/bin/
COPY --from=build /build/images/busybox.tar /build/images/testserver.tar /usr/share/kubepp/images/
COPY scripts/pki.sh docker/entrypoint.sh /usr/local/lib/kubepp/
ENTRYPOINT ["/usr/local/lib/kubepp/entrypoint.sh"]
