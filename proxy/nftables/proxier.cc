#include "proxy/nftables/proxier.h"

#include <algorithm>

#include "common/log.h"
#include "common/util/exec.h"

namespace kubepp::proxy::nft {

Status RunNft(const std::string& script) {
  ASSIGN_OR_RETURN(util::CommandResult r, util::RunCommand({"nft", "-f", "-"}, script));
  if (r.exit_code != 0) {
    // nft names the failing line; the first lines of its message are enough to act on.
    return Internal("nft -f failed (exit " + std::to_string(r.exit_code) + "): " +
                    r.err.substr(0, 2000));
  }
  return Status::Ok();
}

NftablesProxier::NftablesProxier(RenderConfig config, std::set<std::string> locally_served,
                                 ScriptRunner run)
    : config_(std::move(config)), locally_served_(std::move(locally_served)), run_(std::move(run)) {}

Status NftablesProxier::Sync(const Snapshot& snapshot, bool full) {
  const Snapshot* snap = &snapshot;
  Snapshot filtered;
  if (!locally_served_.empty()) {
    filtered = snapshot;
    std::erase_if(filtered.ports, [&](const ServicePort& p) {
      return locally_served_.count(p.cluster_ip) > 0;
    });
    snap = &filtered;
  }
  Ruleset want = BuildRuleset(*snap, config_);
  std::string script;
  bool is_full = full || !applied_;
  if (!is_full) {
    if (*applied_ == want) {
      ++stats_.skipped_syncs;
      return Status::Ok();
    }
    auto diff = RenderDiff(*applied_, want);
    if (diff) {
      script = std::move(*diff);
    } else {
      is_full = true;
    }
  }
  if (is_full) script = RenderFull(want);
  stats_.last_script_bytes = script.size();
  Status st = run_(script);
  if (!st.ok()) {
    ++stats_.failed_syncs;
    applied_.reset();  // the kernel's state is unknown now: next time, everything
    return st;
  }
  ++(is_full ? stats_.full_syncs : stats_.partial_syncs);
  applied_ = std::move(want);
  return Status::Ok();
}

Status NftablesProxier::Cleanup() {
  applied_.reset();
  return run_(RenderDelete("ip", config_.table));
}

}  // namespace kubepp::proxy::nft
