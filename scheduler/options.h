// The scheduler process: flags, leader election, the /healthz + /metrics endpoint, and
// the Scheduler while leading.
// Thread safety: Run is called once, from main.
#pragma once

#include <atomic>
#include <string>

#include "common/client/kubeconfig.h"
#include "common/flags.h"
#include "common/status.h"

namespace kubepp::scheduler {

struct SchedulerOptions {
  client::ClientFlags client;
  std::string scheduler_name = "default-scheduler";
  bool leader_elect = true;
  std::string lease_namespace = "kube-system";
  std::string lease_name = "kube-scheduler";
  int percentage_of_nodes_to_score = 0;
  int bind_workers = 16;
  std::string bind_address = "127.0.0.1";
  int port = 10259;  // upstream's port; plain HTTP here, 0 disables
};

void AddFlags(FlagSet& flags, SchedulerOptions* options);

// Runs until *stop turns true (OK) or leadership is lost or startup fails (an error,
// so that the process exits and is restarted, as upstream's).
Status Run(const SchedulerOptions& options, const std::atomic<bool>* stop);

}  // namespace kubepp::scheduler
