// The kubelet process: flags, the API client, the container runtime(s), one NodeAgent
// per node (one, or N hollow ones with --runtime=fake --hollow-nodes=N), the shared pod
// work queue and its workers, heartbeats (lease every 10 s, node status), the PLEG
// relist (1 s), housekeeping, the kubelet API server (HTTPS with authentication and
// authorization, server.h and auth.h: /healthz, /metrics, /pods, /containerLogs) and the
// plain health port (/healthz only, on loopback, for scripts and probes).
// Thread safety: Run is called once, from main.
#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include "common/client/kubeconfig.h"
#include "common/flags.h"
#include "common/status.h"

namespace kubepp::kubelet {

struct KubeletOptions {
  client::ClientFlags client;
  std::string node_name;  // default: hostname
  std::string node_ip = "127.0.0.1";
  std::string address;    // where the kubelet server listens; default: node_ip
  int kubelet_port = 10250;
  // The API's TLS: serving certificate and key, or "" for a self-signed pair made at
  // first start in <root-dir>/pki (kubelet.crt, kubelet.key) and kept.
  std::string tls_cert_file, tls_private_key_file;
  // Authentication (auth.h): x509 client certificates signed by this CA; bearer tokens
  // through TokenReview; anonymous requests (else 401).
  std::string client_ca_file;
  bool authentication_token_webhook = false;
  bool anonymous_auth = false;
  // Authorization: "Webhook" (SubjectAccessReview) or "AlwaysAllow"; "" = Webhook when
  // a kubeconfig is given, else AlwaysAllow.
  std::string authorization_mode;
  // The plain /healthz port (0: none).
  int healthz_port = 10248;
  std::string healthz_bind_address = "127.0.0.1";
  std::string root_dir = "/var/lib/kubepp/kubelet";
  std::string images_dir;  // default: <root-dir>/images-import
  std::string runtime = "runc";
  int hollow_nodes = 0;
  std::string node_labels;
  std::string register_with_taints;
  std::string system_reserved;  // "cpu=100m,memory=100Mi"
  std::string cluster_dns;
  std::string cluster_domain = "cluster.local";
  std::string pod_cidr;
  int pod_workers = 8;
  int lease_renew_seconds = 10;
  int node_status_update_seconds = 10;
  // runc runtime and CNI.
  std::string runc_binary = "runc";
  std::string cni_bin_dir = "/usr/lib/cni";
  std::string cni_conf_dir = "/etc/cni/net.d";
  std::string cni_bridge = "kubepp0";
  std::string cgroup_parent;  // default: under the kubelet's own memory cgroup
  // Image pulls.
  std::string registry_ca_file;  // default: the system CAs
  std::string insecure_registries = "localhost:*,127.0.0.1:*,[::1]:*";
  // Image garbage collection (image_gc.h), upstream's flags; ages are Go durations.
  int image_gc_high_threshold = 85;
  int image_gc_low_threshold = 80;
  std::chrono::milliseconds image_minimum_gc_age = std::chrono::minutes(2);
  std::chrono::milliseconds image_maximum_gc_age{0};                    // 0: off
  std::chrono::milliseconds image_gc_period = std::chrono::minutes(5);  // upstream's is fixed; tests shorten it
};

void AddFlags(FlagSet& flags, KubeletOptions* options);

// Runs until *stop turns true (OK) or startup fails.
Status Run(const KubeletOptions& options, const std::atomic<bool>* stop);

// `kubelet teardown`: removes every pod sandbox and container of --root-dir's runc
// runtime (containers killed, CNI DEL, network namespaces, mounts, cgroups), e.g. after
// the node is taken out of service. The kubelet must not be running.
Status Teardown(const KubeletOptions& options);

// `kubelet import-image FILE...`: imports image tarballs into --root-dir's image store
// and prints "<id> <tag>" per tag.
Status ImportImages(const KubeletOptions& options, const std::vector<std::string>& files);

}  // namespace kubepp::kubelet
