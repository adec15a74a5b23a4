// kubelet: the node agent (see kubelet/kubelet.h).
//   kubelet [flags]                             run
//   kubelet import-image [--root-dir D] FILE..  import docker-save / OCI-layout tarballs
//   kubelet teardown [--root-dir D]             remove every pod of a stopped runc node
//   kubelet shim ...                            internal: watches one runc container
#include <string>

#include "common/component.h"
#include "kubelet/kubelet.h"
#include "kubelet/runtime/shim.h"

int main(int argc, char** argv) {
  using namespace kubepp;
  if (argc > 1 && std::string(argv[1]) == "shim") return kubelet::ShimMain(argc - 1, argv + 1);
  kubelet::KubeletOptions options;
  FlagSet flags("kubelet", "Runs the pods bound to this node (kubelet).\n"
                           "Subcommands: import-image FILE... (into --root-dir's image store);\n"
                           "teardown (remove every pod sandbox and container of --root-dir).");
  kubelet::AddFlags(flags, &options);
  return RunComponent(argc, argv, flags, [&](const std::atomic<bool>* stop) -> Status {
    const auto& args = flags.args();
    if (args.empty()) return kubelet::Run(options, stop);
    if (args[0] == "teardown" && args.size() == 1) return kubelet::Teardown(options);
    if (args[0] == "import-image" && args.size() > 1) {
      return kubelet::ImportImages(options, {args.begin() + 1, args.end()});
    }
    return BadRequest("unknown subcommand \"" + args[0] + "\" (see --help)");
  });
}
