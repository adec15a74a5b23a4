// controller-manager: the control loops of the cluster (see controller_manager.h).
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <thread>

#include "common/flags.h"
#include "common/log.h"
#include "controller-manager/controller_manager.h"

int main(int argc, char** argv) {
  using namespace kubepp;
  controllermanager::Options options;
  FlagSet flags("controller-manager",
                "Runs the controllers (replicaset, deployment, endpoints, garbage collector, "
                "namespace, nodes, ...) against the apiserver.");
  controllermanager::AddFlags(flags, &options);
  if (auto st = flags.Parse(argc, argv); !st.ok()) {
    std::fprintf(stderr, "controller-manager: %s\n", st.message().c_str());
    return 2;
  }
  if (flags.help_requested()) {
    std::fputs(flags.Usage().c_str(), stdout);
    return 0;
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // every thread inherits the mask
  signal(SIGPIPE, SIG_IGN);
  std::atomic<bool> stop{false};
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&set, &sig);
    LOG(INFO) << "controller-manager: signal " << sig << ", shutting down";
    stop = true;
  });
  waiter.detach();
  Status st = controllermanager::Run(options, &stop);
  if (!st.ok()) {
    std::fprintf(stderr, "controller-manager: %s\n", st.ToString().c_str());
    return 1;
  }
  return 0;
}
