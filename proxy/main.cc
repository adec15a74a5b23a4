// proxy: Services, LoadBalancer addresses, cluster DNS and Ingress on one node (see proxy/options.h).
// On exit the rules stay in place: traffic keeps flowing while the proxy restarts.
#include "common/component.h"
#include "proxy/options.h"

int main(int argc, char** argv) {
  using namespace kubepp;
  LimitMallocArenas(2);  // the informers' lists and a full sync's model peak on different threads
  proxy::ProxyOptions options;
  FlagSet flags("proxy", "Programs Services into the kernel (kube-proxy), serves cluster DNS and Ingress.");
  proxy::AddFlags(flags, &options);
  return RunComponent(argc, argv, flags, [&](const std::atomic<bool>* stop) {
    return proxy::Run(options, stop);
  });
}
