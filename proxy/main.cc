// proxy: Services, LoadBalancer addresses and cluster DNS on one node (see proxy/options.h).
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <thread>

#include "common/flags.h"
#include "common/log.h"
#include "proxy/options.h"

int main(int argc, char** argv) {
  using namespace kubepp;
  proxy::ProxyOptions options;
  FlagSet flags("proxy", "Programs Services into the kernel (kube-proxy) and serves cluster DNS.");
  proxy::AddFlags(flags, &options);
  if (auto st = flags.Parse(argc, argv); !st.ok()) {
    std::fprintf(stderr, "proxy: %s\n", st.message().c_str());
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
    LOG(INFO) << "proxy: signal " << sig << ", shutting down (rules stay in place)";
    stop = true;
  });
  waiter.detach();  // the process ends with main; the waiter holds nothing

  Status st = proxy::Run(options, &stop);
  if (!st.ok()) {
    LOG(ERROR) << "proxy: " << st.ToString();
    return 1;
  }
  return 0;
}
