// The controller-manager: runs the control loops that keep the cluster as declared
// (ReplicaSets, Deployments, Endpoints, nodes, garbage collection, namespaces, ...)
// against the apiserver, serving /healthz and /metrics.
//
// Every controller reads from one set of shared informers (one list+watch per
// resource). With leader election (the default) only the holder of the Lease
// kube-system/kube-controller-manager runs controllers; a replica that loses the lease
// stops, as upstream's exits.
//
// Thread safety: Run is called once, from the main thread.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "common/client/kubeconfig.h"
#include "common/flags.h"
#include "common/status.h"

namespace kubepp::controllermanager {

struct Options {
  client::ClientFlags client;
  // Comma-separated: "*" (all), "name" (enable), "-name" (disable), as upstream.
  std::string controllers = "*";
  bool leader_elect = true;
  std::string leader_elect_resource_namespace = "kube-system";
  std::string leader_elect_resource_name = "kube-controller-manager";
  int leader_elect_lease_duration = 15;  // seconds
  int leader_elect_renew_deadline = 10;
  int leader_elect_retry_period = 2;
  std::string bind_address = "127.0.0.1";
  int port = 10257;
  // nodeipam
  bool allocate_node_cidrs = true;
  std::string cluster_cidr = "10.244.0.0/16";
  int node_cidr_mask_size = 24;
  // nodelifecycle
  int node_monitor_grace_period = 40;  // seconds
  int node_monitor_period = 5;
  int terminated_pod_gc_threshold = 12500;
  double unhealthy_zone_threshold = 0.55;
  // root-ca-cert-publisher: the CA bundle published as kube-root-ca.crt in every
  // namespace; default: the CA of the --kubeconfig (none: the controller stays off).
  std::string root_ca_file;
  // local-path-provisioner: where its hostPath volumes live.
  std::string local_path_dir = "/var/lib/kubepp/local-path";
  // workers per controller
  int concurrent_replicaset_syncs = 5;
  int concurrent_deployment_syncs = 5;
  int concurrent_endpoint_syncs = 5;
  int concurrent_gc_syncs = 20;
  int concurrent_namespace_syncs = 10;
  int concurrent_other_syncs = 2;
};

// Registers every flag of `options` (upstream names).
void AddFlags(FlagSet& flags, Options* options);

// The controllers this build knows, in start order.
const std::vector<std::string>& KnownControllers();
// The controllers `spec` enables; BadRequest for unknown names.
Result<std::vector<std::string>> EnabledControllers(const std::string& spec);

// Runs until *stop turns true (OK) or leadership is lost (Unavailable). Setup errors
// (bad flags, unreadable kubeconfig, port in use) are returned at once.
Status Run(const Options& options, const std::atomic<bool>* stop);

}  // namespace kubepp::controllermanager
