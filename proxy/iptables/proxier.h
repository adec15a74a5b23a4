// The iptables Proxier (`--proxy-mode=iptables`, for hosts without nftables): renders
// every chain of ours (render.h) and applies them with one `iptables-restore --noflush`
// (one transaction per table), deleting chains of ours that are no longer needed; then
// makes sure the built-in chains jump to ours. Every sync rewrites all of our chains, as
// kube-proxy's iptables mode did before its partial syncs; a sync whose rules equal the
// last applied ones (by a 64-bit fingerprint) is skipped. Works with either iptables backend: `backend` "" runs
// the host's default `iptables`, "legacy" / "nft" the iptables-legacy / iptables-nft
// commands.
// Thread safety: Sync/Cleanup from one thread at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/util/exec.h"
#include "proxy/iptables/render.h"
#include "proxy/proxier.h"

namespace kubepp::proxy::ipt {

// Runs one command with `input` on its standard input (the seam tests replace).
using CommandRunner =
    std::function<Result<util::CommandResult>(const std::vector<std::string>& argv,
                                              std::string_view input)>;
Result<util::CommandResult> RunCommand(const std::vector<std::string>& argv,
                                       std::string_view input);

class IptablesProxier : public Proxier {
 public:
  // Service ports whose ClusterIP is in `locally_served` are left alone (the cluster DNS
  // address, answered by this process on every node).
  IptablesProxier(RenderConfig config, std::string backend,
                  std::set<std::string> locally_served = {}, CommandRunner run = RunCommand);

  Status Sync(const Snapshot& snapshot, bool full) override;
  Status Cleanup() override;

 private:
  // "iptables", "iptables-restore", ... for the backend.
  std::string Tool(const std::string& suffix) const;
  Status Run(const std::vector<std::string>& argv, std::string_view input = "");
  // Our chains in the kernel now, per table.
  Result<std::pair<std::set<std::string>, std::set<std::string>>> ListChains();
  Status EnsureJumps();

  RenderConfig config_;
  std::string backend_;
  std::set<std::string> locally_served_;
  CommandRunner run_;
  // What the last successful sync applied: our chains' names, and a fingerprint of
  // every chain and rule (not the rules themselves: at 10,000 Services they take
  // hundreds of MB).
  bool synced_ = false;
  std::set<std::string> applied_nat_, applied_filter_;
  uint64_t applied_fingerprint_ = 0;
};

}  // namespace kubepp::proxy::ipt
