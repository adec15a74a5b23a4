// Pod networking through the standard CNI plugins (CNI spec 0.4.0/1.0.0 as executed by
// libcni): ADD runs the network's plugins in order, each given the previous result;
// DEL runs them in reverse with the cached ADD result. The network is the first
// *.conflist in --cni-conf-dir, else a default built from the node's pod CIDR:
//   bridge (--cni-bridge, gateway, hairpin) + host-local IPAM (state under
//   <root-dir>/cni so kubelets on one host never share) + portmap (hostPort),
// with masquerading and FORWARD acceptance (FORWARD's policy is DROP on Docker hosts) as
// node-wide iptables rules for the pod CIDR (EnsureNodeRules), put in place before the
// first pod, not per pod. Loopback is brought up with the loopback plugin.
//
// Thread safety: Add/Del for different containers may run concurrently.
#pragma once

#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/api/json.h"
#include "common/status.h"
#include "kubelet/runtime/runtime.h"

namespace kubepp::kubelet {

struct CniOptions {
  std::string bin_dir = "/usr/lib/cni";
  std::string conf_dir = "/etc/cni/net.d";
  std::string state_dir;  // results cache and host-local data
  std::string bridge = "kubepp0";
};

// The default network for `pod_cidr` (JSON text).
std::string DefaultConfList(const CniOptions& options, const std::string& pod_cidr);

// The default network's node-wide rules for the pods of `cidr` on `bridge`: chains
// KUBEPP-MASQ-<bridge> (nat; jumped to from POSTROUTING: traffic from the pods leaving
// the pod subnet, multicast aside, is masqueraded) and KUBEPP-FWD-<bridge> (filter;
// jumped to first from FORWARD: the pods' traffic and the replies to it are accepted).
// Idempotent; rules already complete are left untouched, so a kubelet restart opens no
// gap for running pods.
Status EnsureNodeRules(const std::string& bridge, const std::string& cidr);
// Removes them (kubelet teardown). Best effort: what is not there is skipped.
void RemoveNodeRules(const std::string& bridge);

class CniNetwork {
 public:
  explicit CniNetwork(CniOptions options);

  void SetPodCidr(const std::string& cidr);
  // OK when the plugins are installed and a network is configured.
  Status Ready();

  // Attaches the namespace at `netns_path` (interface eth0); returns the pod IP.
  Result<std::string> Add(const std::string& container_id, const std::string& netns_path,
                          const std::vector<PortMapping>& ports);
  // Detaches it and releases the IP. Idempotent; works without the namespace (IPAM and
  // host-side rules are still cleaned up).
  Status Del(const std::string& container_id, const std::string& netns_path);
  // Releases host-local allocations of containers not in `live` (kubelet crashed between
  // ADD and recording the sandbox). Returns how many were released.
  int ReleaseLeaked(const std::set<std::string>& live);

 private:
  // The network config in use, or why none. For the default network, `default_cidr`
  // (when given) gets its pod CIDR.
  Result<api::Document> ConfList(std::string* default_cidr = nullptr);
  // Removes host-local allocations whose owner matches. Returns how many.
  int ReleaseIf(const std::function<bool(const std::string& owner)>& match);
  Result<std::string> Invoke(const std::string& command, const api::Value& net_conf,
                             const api::Value& plugin, const std::string& container_id,
                             const std::string& netns_path, const api::Value* prev_result,
                             const std::vector<PortMapping>& ports);

  CniOptions options_;
  std::mutex mu_;
  std::string pod_cidr_;
  std::string node_rules_cidr_;  // the CIDR EnsureNodeRules last completed for
};

}  // namespace kubepp::kubelet
