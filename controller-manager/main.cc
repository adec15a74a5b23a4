// controller-manager: the control loops of the cluster (see controller_manager.h).
#include "common/component.h"
#include "controller-manager/controller_manager.h"

int main(int argc, char** argv) {
  using namespace kubepp;
  KeepFreedMemory(8 << 20);  // Endpoints and slices of large Services rebuilt per sync
  controllermanager::Options options;
  FlagSet flags("controller-manager",
                "Runs the controllers (replicaset, deployment, endpoints, garbage collector, "
                "namespace, nodes, jobs, ...) against the apiserver (kube-controller-manager).");
  controllermanager::AddFlags(flags, &options);
  return RunComponent(argc, argv, flags, [&](const std::atomic<bool>* stop) {
    return controllermanager::Run(options, stop);
  });
}
