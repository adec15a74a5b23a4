// The proxy process (one per node): the service proxy (nftables, or iptables where
// nftables does not work), LoadBalancer addresses,
// the cluster DNS server, the Ingress controller and /healthz + /metrics. Flags follow
// kube-proxy's names where kube-proxy has the flag.
// Thread safety: Run is called once, from main.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>

#include "common/client/kubeconfig.h"
#include "common/flags.h"
#include "common/status.h"

namespace kubepp::proxy {

struct ProxyOptions {
  client::ClientFlags client;
  std::string hostname_override;  // the node's name; "" = this host's name
  std::string node_ip;            // "" = the Node's InternalIP, else the first global address
  std::string mode;               // "nftables", "iptables", "" = ChooseProxyMode's pick
  std::string iptables_backend;   // "", "legacy" or "nft"
  std::string iptables_prefix = "KUBEPP";
  std::string cluster_cidr = "10.244.0.0/16";
  std::string service_cidr = "10.96.0.0/12";
  std::string loadbalancer_ip_range;  // "" = the node's address
  std::chrono::milliseconds min_sync_period = std::chrono::seconds(1);
  std::chrono::milliseconds sync_period = std::chrono::hours(1);  // between full rewrites of the table
  int healthz_port = 10256;        // on 127.0.0.1; 0 disables
  bool cleanup = false;
  bool pod_routes = false;  // route other nodes' pod CIDRs via their InternalIP (pod_routes.h)
  // Cluster DNS.
  bool dns = true;
  std::string cluster_dns_address = "10.96.0.10";
  int dns_port = 53;
  std::string cluster_domain = "cluster.local";
  std::string resolv_conf = "/etc/resolv.conf";
  // Ingress controller (L7, proxy/ingress/): listeners that cannot be bound are logged
  // and left out; the rest of the proxy runs on.
  int ingress_http_port = 80;    // 0 disables
  int ingress_https_port = 443;  // 0 disables
  std::string ingress_bind_address = "0.0.0.0";
  std::string ingress_class = "kubepp";
  // Names of what the proxy makes on the host (tests run several side by side).
  std::string table = "kubepp";
  std::string bridge = "kubepp-svc0";
};

void AddFlags(FlagSet& flags, ProxyOptions* options);

// The proxy mode to run: `requested` when set (nftables or iptables, else BadRequest);
// with none, nftables where `nftables_works()` (the nft tool answers), else iptables, as
// kube-proxy's users pick the mode their host supports.
Result<std::string> ChooseProxyMode(const std::string& requested,
                                    const std::function<bool()>& nftables_works);

// Runs until *stop (OK; the rules stay in place), or does the --cleanup and returns.
Status Run(const ProxyOptions& options, const std::atomic<bool>* stop);

}  // namespace kubepp::proxy
