// scheduler: places pending pods on nodes (see scheduler/scheduler.h).
#include "common/component.h"
#include "scheduler/options.h"

int main(int argc, char** argv) {
  using namespace kubepp;
  scheduler::SchedulerOptions options;
  FlagSet flags("scheduler", "Assigns pending pods to nodes (kube-scheduler).");
  scheduler::AddFlags(flags, &options);
  return RunComponent(argc, argv, flags, [&](const std::atomic<bool>* stop) {
    return scheduler::Run(options, stop);
  });
}
