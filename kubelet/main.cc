// kubelet: the node agent (see kubelet/kubelet.h).
//   kubelet [flags]                           run
//   kubelet import-image [--root-dir D] FILE  import a docker-save / OCI-layout tarball
//   kubelet teardown [--root-dir D]           remove every pod of a stopped runc node
//   kubelet shim ...                          internal: watches one runc container
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <thread>

#include "common/flags.h"
#include "common/log.h"
#include "kubelet/kubelet.h"
#include "kubelet/runtime/image_store.h"
#include "kubelet/runtime/shim.h"

int main(int argc, char** argv) {
  using namespace kubepp;
  if (argc > 1 && std::string(argv[1]) == "shim") return kubelet::ShimMain(argc - 1, argv + 1);

  kubelet::KubeletOptions options;
  FlagSet flags("kubelet", "Runs the pods bound to this node (kubelet).\n"
                           "Subcommands: import-image FILE... (into --root-dir's image store);\n"
                           "teardown (remove every pod sandbox and container of --root-dir).");
  kubelet::AddFlags(flags, &options);
  if (auto st = flags.Parse(argc, argv); !st.ok()) {
    std::fprintf(stderr, "kubelet: %s\n", st.message().c_str());
    return 2;
  }
  if (flags.help_requested()) {
    std::fputs(flags.Usage().c_str(), stdout);
    return 0;
  }
  if (!flags.args().empty() && flags.args()[0] == "teardown") {
    Status st = kubelet::Teardown(options);
    if (!st.ok()) {
      std::fprintf(stderr, "kubelet: %s\n", st.message().c_str());
      return 1;
    }
    return 0;
  }
  if (!flags.args().empty()) {
    if (flags.args()[0] != "import-image" || flags.args().size() < 2) {
      std::fprintf(stderr, "kubelet: unknown subcommand (see --help)\n");
      return 2;
    }
    auto store = kubelet::ImageStore::Open(options.root_dir + "/images");
    if (!store.ok()) {
      std::fprintf(stderr, "kubelet: %s\n", store.status().message().c_str());
      return 1;
    }
    for (size_t i = 1; i < flags.args().size(); ++i) {
      auto imported = (*store)->Import(flags.args()[i]);
      if (!imported.ok()) {
        std::fprintf(stderr, "kubelet: %s: %s\n", flags.args()[i].c_str(),
                     imported.status().message().c_str());
        return 1;
      }
      for (auto& img : *imported) {
        for (auto& tag : img.repo_tags) std::printf("%s %s\n", img.id.c_str(), tag.c_str());
      }
    }
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
    LOG(INFO) << "kubelet: signal " << sig << ", shutting down";
    stop = true;
  });
  waiter.detach();

  Status st = kubelet::Run(options, &stop);
  if (!st.ok()) {
    LOG(ERROR) << "kubelet: " << st.ToString();
    return 1;
  }
  return 0;
}
