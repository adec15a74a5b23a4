// The nftables Proxier: renders the desired table (render.h) and applies it with
// `nft -f -` in one transaction: the whole table on a full sync, only the difference from
// the last applied model otherwise, nothing when nothing changed.
// Thread safety: Sync/Cleanup from one thread at a time; stats() from any thread.
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <set>
#include <string>

#include "proxy/nftables/render.h"
#include "proxy/nftables/ruleset.h"
#include "proxy/proxier.h"

namespace kubepp::proxy::nft {

// Applies one nft script (the seam tests replace). The default runs `nft -f -`.
using ScriptRunner = std::function<Status(const std::string& script)>;
Status RunNft(const std::string& script);

struct ProxierStats {
  std::atomic<uint64_t> full_syncs{0}, partial_syncs{0}, skipped_syncs{0}, failed_syncs{0};
  std::atomic<uint64_t> last_script_bytes{0};
};

class NftablesProxier : public Proxier {
 public:
  // Service ports whose ClusterIP is in `locally_served` are left alone (the cluster DNS
  // address, answered by this process on every node).
  NftablesProxier(RenderConfig config, std::set<std::string> locally_served = {},
                  ScriptRunner run = RunNft);

  Status Sync(const Snapshot& snapshot, bool full) override;
  Status Cleanup() override;
  const ProxierStats& stats() const { return stats_; }

 private:
  RenderConfig config_;
  std::set<std::string> locally_served_;
  ScriptRunner run_;
  std::optional<Ruleset> applied_;  // what the kernel holds, as far as we know
  ProxierStats stats_;
};

}  // namespace kubepp::proxy::nft
