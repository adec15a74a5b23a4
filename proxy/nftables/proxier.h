// The nftables Proxier: renders the desired table (render.h) and applies it with
// `nft -f -` in one transaction: the whole table on a full sync, otherwise only what the
// Service ports that changed since the last sync contribute (their chains and affinity
// sets, rewritten; their elements of the shared maps, deleted and added), as kube-proxy's
// partial syncs do; nothing when nothing changed. A port is unchanged when the snapshot
// holds the same ServicePort object (SnapshotBuilder shares them) or an equal one, so an
// unchanged port costs a comparison, not a rendering. What the kernel holds is remembered
// as the applied ports plus, for each element of a shared map, the ports that claim it;
// not as rendered text. The shared pick- chains are claimed like set elements (a chain is
// there while a port uses it); the slot maps are not claimed: a touched entry's slots are
// rendered from the port that wins its entry element. A full sync leaves the large sets'
// elements (LargeSet) to an ElementLoader (netlink.h) and still switches the kernel at once.
// Thread safety: Sync/Cleanup from one thread at a time; stats() from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "proxy/nftables/netlink.h"
#include "proxy/nftables/render.h"
#include "proxy/nftables/ruleset.h"
#include "proxy/proxier.h"

namespace kubepp::proxy::nft {

// Applies one nft script (the seam tests replace). The default is an NftRunner.
using ScriptRunner = std::function<Status(const std::string& script)>;

// Applies scripts as `nft -f` does. A large script (a full sync) goes to a child `nft -f -`:
// parsing it takes ~40 times its size, which the child returns when it exits. A small one
// runs in this process through libnftables, on a netlink socket kept open between calls:
// a child's exit after a transaction that deleted elements waits for the kernel to release
// them (an RCU grace period, ~10 ms), which is most of a small transaction's time.
// Copies share the in-process context. Thread safety: one call at a time.
class NftRunner {
 public:
  NftRunner();
  Status operator()(const std::string& script);

 private:
  struct Context;
  std::shared_ptr<Context> ctx_;
};

// The large sets' other name suffix (RenderConfig::large_set_suffix): a full sync over an
// existing table switches between "" and this one.
inline constexpr const char* kOtherLargeSetSuffix = "-2";
// The least size a large set is declared with.
inline constexpr size_t kMinLargeSetSize = 4096;

struct ProxierStats {
  std::atomic<uint64_t> full_syncs{0}, partial_syncs{0}, skipped_syncs{0}, failed_syncs{0};
  std::atomic<uint64_t> last_script_bytes{0};
  std::atomic<uint64_t> last_loaded_elements{0};  // through the ElementLoader, last full sync
  std::atomic<uint64_t> last_changed_ports{0};  // ports rewritten by the last partial sync
};

// The key of a shared set's element ("10.96.0.5 . tcp . 80", "10.244.1.2 . 10.244.1.2")
// in 64 bits when it is made of IPv4 addresses (4 bytes each), protocols (tcp, udp, sctp:
// 1 byte) and ports (2 bytes) that fit; nullopt otherwise. The keys of one set have one
// shape (the set's type), so no two of them pack alike.
std::optional<uint64_t> PackElementKey(std::string_view key);

// Something per element key of one shared set: keys packed (PackElementKey) where they
// can be, text otherwise. A proxier holds one per element of every shared set (100,000s),
// where text keys took ~3 times the memory.
template <typename V>
class ElementMap {
 public:
  V* Find(std::string_view key) {
    if (auto k = PackElementKey(key)) {
      auto it = packed_.find(*k);
      return it == packed_.end() ? nullptr : &it->second;
    }
    auto it = text_.find(std::string(key));
    return it == text_.end() ? nullptr : &it->second;
  }
  const V* Find(std::string_view key) const { return const_cast<ElementMap*>(this)->Find(key); }
  V& operator[](std::string_view key) {
    if (auto k = PackElementKey(key)) return packed_[*k];
    return text_[std::string(key)];
  }
  void Erase(std::string_view key) {
    if (auto k = PackElementKey(key)) {
      packed_.erase(*k);
    } else {
      text_.erase(std::string(key));
    }
  }

 private:
  std::unordered_map<uint64_t, V> packed_;
  std::unordered_map<std::string, V> text_;
};

class NftablesProxier : public Proxier {
 public:
  // Service ports whose ClusterIP is in `locally_served` are left alone (the cluster DNS
  // address, answered by this process on every node).
  // With a `loader`, full syncs load the large sets' elements through it instead of nft
  // (see SyncFull).
  NftablesProxier(RenderConfig config, std::set<std::string> locally_served = {},
                  ScriptRunner run = NftRunner(), std::shared_ptr<ElementLoader> loader = nullptr);

  Status Sync(const Snapshot& snapshot, bool full) override;
  Status Cleanup() override;
  const ProxierStats& stats() const { return stats_; }

 private:
  // Who put each element into a shared set or map. A set element is there while some port
  // claims it; a map element has the value of the port with the greatest Id (BuildRuleset
  // renders ports in Id order and the last one wins). Claimants are ports held by
  // applied_.
  using SetClaims = ElementMap<uint32_t>;  // key -> ports
  using MapClaims = ElementMap<std::vector<const ServicePort*>>;  // key -> ports

  Status SyncFull(const std::vector<const ServicePortPtr*>& ports);
  Status SyncPartial(
      const std::vector<std::pair<const ServicePortPtr*, const ServicePortPtr*>>& changed);
  // Renders one port alone: its chains and own sets, and its shared elements.
  Ruleset RenderAlone(const ServicePort& sp) const;
  // Port `port` claims the shared elements of `alone` (its RenderAlone), or gives them up.
  void Claim(const ServicePort* port, const Ruleset& alone, bool add);
  // The port whose value the element `key` of shared map `map` has; null when it is not there.
  const ServicePort* Winner(const std::string& map, const std::string& key) const;
  // Whether the element `key` of shared set `set` is there, as the claims say.
  bool Claimed(const std::string& set, const std::string& key) const;
  Status Apply(const std::string& script, bool full);
  // Counts a sync that ended with `st`; after a failure the next sync is full.
  Status Finish(Status st, bool full);
  void ResetShared();  // shared_ from BaseRuleset(config_)
  void Forget();  // the kernel's table is unknown (a failure) or about to be replaced

  RenderConfig config_;
  std::set<std::string> locally_served_;
  ScriptRunner run_;
  std::shared_ptr<ElementLoader> loader_;
  Ruleset shared_;  // BaseRuleset's sets without elements: the scratch for RenderAlone
  bool synced_ = false;  // applied_ and the claims describe the kernel's table
  std::map<std::string, ServicePortPtr> applied_;  // by Id
  std::map<std::string, SetClaims> set_claims_;  // by set name
  std::map<std::string, MapClaims> map_claims_;  // by map name
  std::unordered_map<std::string, uint32_t> chain_claims_;  // shared chain -> ports using it
  // The large sets in the kernel: {elements, declared size} by name.
  std::map<std::string, std::pair<size_t, size_t>> large_sets_;
  ProxierStats stats_;
};

}  // namespace kubepp::proxy::nft
