#include "proxy/nftables/proxier.h"

#include <malloc.h>
#include <nftables/libnftables.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <list>
#include <thread>

#include "common/log.h"
#include "common/net/ipv4.h"
#include "common/util/exec.h"

namespace kubepp::proxy::nft {

namespace {

// Larger scripts go to a child nft (see NftRunner).
constexpr size_t kInProcessScriptBytes = 256 << 10;

// nft names the failing line; the first lines of its message are enough to act on.
Status NftFailed(const std::string& how, const std::string& message) {
  return Internal("nft -f failed (" + how + "): " + message.substr(0, 2000));
}

}  // namespace

struct NftRunner::Context {
  nft_ctx* nft = nullptr;
  ~Context() {
    if (nft) nft_ctx_free(nft);
  }
};

NftRunner::NftRunner() : ctx_(std::make_shared<Context>()) {}

Status NftRunner::operator()(const std::string& script) {
  if (script.size() > kInProcessScriptBytes) {
    ASSIGN_OR_RETURN(util::CommandResult r, util::RunCommand({"nft", "-f", "-"}, script));
    if (r.exit_code != 0) return NftFailed("exit " + std::to_string(r.exit_code), r.err);
    return Status::Ok();
  }
  if (!ctx_->nft) {
    ctx_->nft = nft_ctx_new(NFT_CTX_DEFAULT);
    if (!ctx_->nft) return Internal("libnftables: cannot create a context");
    nft_ctx_buffer_output(ctx_->nft);
    nft_ctx_buffer_error(ctx_->nft);
  }
  int rc = nft_run_cmd_from_buffer(ctx_->nft, script.c_str());
  nft_ctx_get_output_buffer(ctx_->nft);  // discarded (and the buffer rewound)
  std::string err = nft_ctx_get_error_buffer(ctx_->nft);
  if (rc != 0) return NftFailed("libnftables", err);
  return Status::Ok();
}

NftablesProxier::NftablesProxier(RenderConfig config, std::set<std::string> locally_served,
                                 ScriptRunner run, std::shared_ptr<ElementLoader> loader)
    : config_(std::move(config)),
      locally_served_(std::move(locally_served)),
      run_(std::move(run)),
      loader_(std::move(loader)) {
  ResetShared();
}

void NftablesProxier::ResetShared() {
  Ruleset base = BaseRuleset(config_);
  shared_ = Ruleset();
  shared_.family = base.family;
  shared_.table = base.table;
  for (auto& [name, s] : base.sets) shared_.sets[name].decl = s.decl;
}

Status NftablesProxier::Sync(const Snapshot& snapshot, bool full) {
  std::vector<const ServicePortPtr*> ports;
  ports.reserve(snapshot.ports.size());
  for (const auto& p : snapshot.ports) {
    if (!locally_served_.empty() && locally_served_.count(p->cluster_ip)) continue;
    ports.push_back(&p);
  }
  if (full || !synced_) return SyncFull(ports);

  // Both sides are sorted by Id: one merge walk finds the added, removed and changed ports.
  std::vector<std::pair<const ServicePortPtr*, const ServicePortPtr*>> changed;  // old, new
  auto it = applied_.begin();
  for (const ServicePortPtr* p : ports) {
    // The common case, a port shared with the last snapshot, needs no Id.
    if (it != applied_.end() && it->second == *p) {
      ++it;
      continue;
    }
    std::string id = (*p)->Id();
    for (; it != applied_.end() && it->first < id; ++it) changed.emplace_back(&it->second, nullptr);
    if (it != applied_.end() && it->first == id) {
      if (it->second != *p && !(*it->second == **p)) changed.emplace_back(&it->second, p);
      ++it;
    } else {
      changed.emplace_back(nullptr, p);
    }
  }
  for (; it != applied_.end(); ++it) changed.emplace_back(&it->second, nullptr);
  if (changed.empty()) {
    ++stats_.skipped_syncs;
    return Status::Ok();
  }
  return SyncPartial(changed);
}

Ruleset NftablesProxier::RenderAlone(const ServicePort& sp) const {
  Ruleset rs = shared_;
  RenderPort(sp, config_, rs);
  return rs;
}

namespace {

bool SharedChain(const std::string& name) { return name.rfind(kSharedChainPrefix, 0) == 0; }

}  // namespace

std::optional<uint64_t> PackElementKey(std::string_view key) {
  uint64_t packed = 0;
  int bytes = 0;
  auto put = [&](uint64_t v, int n) {
    bytes += n;
    packed = (packed << (8 * n)) | v;
    return bytes <= 8;
  };
  while (true) {
    size_t dot = key.find(" . ");
    std::string_view token = key.substr(0, dot);
    bool fits;
    if (token == "tcp" || token == "udp" || token == "sctp") {
      fits = put(token == "tcp" ? 6 : token == "udp" ? 17 : 132, 1);
    } else if (token.find('.') != std::string_view::npos) {
      auto ip = net::ParseIpv4(token);
      fits = ip.ok() && put(*ip, 4);
    } else {
      uint32_t port = 0;
      auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), port);
      fits = ec == std::errc() && end == token.data() + token.size() && !token.empty() &&
             port <= 65535 && put(port, 2);
    }
    if (!fits) return std::nullopt;
    if (dot == std::string_view::npos) return packed;
    key.remove_prefix(dot + 3);
  }
}

void NftablesProxier::Claim(const ServicePort* port, const Ruleset& alone, bool add) {
  for (const auto& [name, c] : alone.chains) {
    if (!SharedChain(name)) continue;
    if (add) {
      ++chain_claims_[name];
    } else if (auto it = chain_claims_.find(name); it != chain_claims_.end() && --it->second == 0) {
      chain_claims_.erase(it);
    }
  }
  for (const auto& [name, s] : alone.sets) {
    // Slot maps follow their owner map's elements: not claimed themselves.
    if (!shared_.sets.count(name) || !SlotOwner(name).empty()) continue;
    if (s.is_map()) {
      auto& claims = map_claims_[name];
      for (const auto& [key, value] : s.elements) {
        if (add) {
          claims[key].push_back(port);
        } else if (auto* ports = claims.Find(key)) {
          std::erase(*ports, port);
          if (ports->empty()) claims.Erase(key);
        }
      }
    } else {
      auto& claims = set_claims_[name];
      for (const auto& [key, value] : s.elements) {
        if (add) {
          ++claims[key];
        } else if (auto* count = claims.Find(key); count && --*count == 0) {
          claims.Erase(key);
        }
      }
    }
  }
}

const ServicePort* NftablesProxier::Winner(const std::string& map, const std::string& key) const {
  auto m = map_claims_.find(map);
  if (m == map_claims_.end()) return nullptr;
  const auto* ports = m->second.Find(key);
  if (!ports || ports->empty()) return nullptr;
  const ServicePort* winner = nullptr;
  std::string winner_id;
  for (const ServicePort* p : *ports) {
    std::string id = p->Id();
    if (!winner || id > winner_id) winner = p, winner_id = std::move(id);
  }
  return winner;
}

bool NftablesProxier::Claimed(const std::string& set, const std::string& key) const {
  auto s = set_claims_.find(set);
  return s != set_claims_.end() && s->second.Find(key);
}

Status NftablesProxier::SyncFull(const std::vector<const ServicePortPtr*>& ports) {
  Forget();
  // Most of a large table is the large sets' elements (LargeSet: an element or more per
  // endpoint), which nft parses ~10 times slower than the loader writes them as netlink
  // messages. So, with a loader:
  //  - no table yet (a node's first start): nft makes the table with the large sets empty,
  //    then the loader fills them (nothing is served yet that the moment between could
  //    break);
  //  - a table whose rules use the large sets of one suffix: nft makes empty large sets of
  //    the other, the loader fills them while nothing refers to them, then one nft
  //    transaction replaces every chain and other set, the new rules referring to the new
  //    large sets, and deletes the old ones: the kernel switches at once, as below;
  //  - otherwise (large sets of both suffixes, which a switch that failed half way leaves,
  //    or no loader): one nft transaction replaces the whole table.
  enum class How { kWhole, kFresh, kSwitch } how = How::kWhole;
  std::optional<TableObjects> kernel;
  std::string suffix;
  if (loader_) {
    Result<std::optional<TableObjects>> objects = loader_->Objects("ip", config_.table);
    if (!objects.ok()) {
      LOG(WARNING) << "proxy: " << objects.status().message() << "; the whole table goes through nft";
    } else if (!objects->has_value()) {
      how = How::kFresh;
    } else {
      kernel = std::move(**objects);
      auto uses = [&](const std::string& sfx) {
        RenderConfig c = config_;
        c.large_set_suffix = sfx;
        for (const auto& [name, set] : BaseRuleset(c).sets) {
          if (LargeSet(name) && kernel->sets.count(name)) return true;
        }
        return false;
      };
      bool plain = uses(""), other = uses(kOtherLargeSetSuffix);
      if (!(plain && other)) {
        how = How::kSwitch;
        suffix = plain ? kOtherLargeSetSuffix : "";
      }
    }
  }
  if (suffix != config_.large_set_suffix) {
    config_.large_set_suffix = suffix;
    ResetShared();
  }
  // The claims (what partial syncs start from) are made on a thread of their own while
  // this one renders the table and the kernel loads it: ~0.1-0.2 s at 10,000 Services off
  // the sync's time. The two render the ports apart (the table is BuildRuleset's, port by
  // port); their allocations stay apart too, so that the model and the script dropped
  // here pin no page of what is kept.
  std::thread claims([&] {
    for (const ServicePortPtr* p : ports) {
      Claim(p->get(), RenderAlone(**p), true);
      applied_.emplace_hint(applied_.end(), (*p)->Id(), *p);
    }
  });
  std::string script, prepare;
  std::vector<std::pair<std::string, Set>> bulk;  // the large sets' elements, for the loader
  {
    Ruleset table = BaseRuleset(config_);
    for (const ServicePortPtr* p : ports) RenderPort(**p, config_, table);
    std::set<std::string> large;
    for (auto& [name, s] : table.sets) {
      if (!LargeSet(name)) continue;
      // Declared with a size, the kernel makes a hash of that many buckets at once rather
      // than growing one element by element (~40% of loading them). The size is also
      // the most the set holds: room to double, then a full sync declares it anew.
      size_t size = std::max<size_t>(kMinLargeSetSize, std::bit_ceil(2 * s.elements.size()));
      s.decl += " size " + std::to_string(size) + " ;";
      large_sets_[name] = {s.elements.size(), size};
      if (how == How::kWhole) continue;
      large.insert(name);
      if (how == How::kSwitch) {
        prepare += std::string("add ") + (s.is_map() ? "map" : "set") + " ip " + config_.table +
                   " " + name + " { " + s.decl + " }\n";
      }
      if (!s.elements.empty()) bulk.emplace_back(name, Set{s.decl, std::exchange(s.elements, {})});
    }
    script = how == How::kSwitch ? RenderReplace(table, *kernel, large) : RenderFull(table);
  }
  auto load = [&]() -> Status {
    for (const auto& [name, s] : bulk) {
      RETURN_IF_ERROR(loader_->Add("ip", config_.table, name, s));
      stats_.last_loaded_elements += s.elements.size();
    }
    return Status::Ok();
  };
  stats_.last_script_bytes = script.size();
  stats_.last_loaded_elements = 0;
  Status st = Status::Ok();
  if (how == How::kSwitch) st = run_(prepare);
  if (st.ok() && how == How::kSwitch) st = load();
  if (st.ok()) st = run_(script);
  if (st.ok() && how == How::kFresh) st = load();
  script = std::string();
  bulk.clear();
  claims.join();
  st = Finish(std::move(st), true);
  // A full sync builds and drops a model and a script of the whole table; give the pages
  // back rather than keeping the peak resident until the next one.
  malloc_trim(0);
  return st;
}

Status NftablesProxier::SyncPartial(
    const std::vector<std::pair<const ServicePortPtr*, const ServicePortPtr*>>& changed) {
  // The table before and after, restricted to what the changed ports touch: their own
  // chains and sets, and the shared elements they claim or claimed (as the claims of every
  // port resolve them, before and after).
  Ruleset from = shared_, to = shared_;
  using Parts = std::vector<std::pair<const ServicePort*, Ruleset>>;  // port, its RenderAlone
  Parts old_parts, new_parts;
  std::map<std::string, std::set<std::string>> touched;  // shared set -> keys
  std::map<std::string, Chain> shared_chains;  // touched; the same for every port
  auto take = [&](const ServicePort& sp, Ruleset& into, Parts& parts) {
    Ruleset alone = RenderAlone(sp);
    for (const auto& [name, c] : alone.chains) {
      if (SharedChain(name)) {
        shared_chains.emplace(name, c);
      } else {
        into.chains[name] = c;
      }
    }
    for (const auto& [name, s] : alone.sets) {
      if (!SlotOwner(name).empty()) continue;  // see `resolve` below
      if (shared_.sets.count(name)) {
        for (const auto& [key, value] : s.elements) touched[name].insert(key);
      } else {
        into.sets[name] = s;
      }
    }
    parts.emplace_back(&sp, std::move(alone));
  };
  for (const auto& [old_port, new_port] : changed) {
    if (old_port) take(**old_port, from, old_parts);
    if (new_port) take(**new_port, to, new_parts);
  }
  // One side of the touched shared state, as the claims say it is: the set elements
  // claimed, the shared chains in use, and each touched map key's element and (for an
  // entry key) slots as its winning port renders them (again, unless it is one of the
  // changed ports, whose parts are `parts`).
  auto resolve = [&](Ruleset& into, const Parts& parts) {
    for (const auto& [name, c] : shared_chains) {
      if (chain_claims_.count(name)) into.chains[name] = c;
    }
    std::unordered_map<const ServicePort*, const Ruleset*> alone_of;
    for (const auto& [port, part] : parts) alone_of.emplace(port, &part);
    std::list<Ruleset> rendered;  // winners not among `parts`
    for (const auto& [name, keys] : touched) {
      const bool is_map = shared_.sets.at(name).is_map();
      const bool owner = name == "service-ips" || name == "service-nodeports";
      for (const auto& key : keys) {
        if (!is_map) {
          if (Claimed(name, key)) into.sets[name].elements.emplace(key, "");
          continue;
        }
        const ServicePort* winner = Winner(name, key);
        if (!winner) continue;
        auto [it, fresh] = alone_of.emplace(winner, nullptr);
        if (fresh) it->second = &rendered.emplace_back(RenderAlone(*winner));
        const Ruleset& alone = *it->second;
        const auto& elements = alone.sets.at(name).elements;
        if (auto e = elements.find(key); e != elements.end()) into.sets[name].elements.insert(*e);
        if (!owner) continue;
        const Slots slots = SlotsOf(name, key, config_.large_set_suffix);
        const auto& slot_elements = alone.sets.at(slots.map).elements;
        auto& into_elements = into.sets[slots.map].elements;
        for (auto e = slot_elements.lower_bound(slots.prefix);
             e != slot_elements.end() && e->first.compare(0, slots.prefix.size(), slots.prefix) == 0;
             ++e) {
          into_elements.insert(*e);
        }
      }
    }
  };
  // The old ports point into applied_: it changes only after `from` is resolved.
  resolve(from, old_parts);
  for (const auto& [port, alone] : old_parts) Claim(port, alone, false);
  for (const auto& [port, alone] : new_parts) Claim(port, alone, true);
  for (const auto& [old_port, new_port] : changed) {
    if (new_port) {
      applied_[(*new_port)->Id()] = *new_port;
    } else {
      applied_.erase((*old_port)->Id());
    }
  }
  resolve(to, new_parts);
  auto diff = RenderDiff(from, to);
  // The large sets' element counts after this sync: `from` and `to` hold what it removes
  // and adds.
  bool outgrown = false;
  std::map<std::string, size_t> counts;
  for (const auto& [name, count_size] : large_sets_) {
    auto f = from.sets.find(name), t = to.sets.find(name);
    size_t count = count_size.first - (f == from.sets.end() ? 0 : f->second.elements.size()) +
                   (t == to.sets.end() ? 0 : t->second.elements.size());
    outgrown = outgrown || count > count_size.second;
    counts[name] = count;
  }
  if (!diff || outgrown) {
    // A changed set declaration (another affinity timeout), or a large set about to outgrow
    // its size: only a full sync replaces it.
    // The ports are copied out first: SyncFull starts by forgetting applied_.
    Snapshot all;
    for (const auto& [id, p] : applied_) all.ports.push_back(p);
    std::vector<const ServicePortPtr*> ports;
    for (const auto& p : all.ports) ports.push_back(&p);
    return SyncFull(ports);
  }
  stats_.last_changed_ports = changed.size();
  RETURN_IF_ERROR(Apply(*diff, false));
  for (const auto& [name, count] : counts) large_sets_[name].first = count;
  return Status::Ok();
}

Status NftablesProxier::Apply(const std::string& script, bool full) {
  stats_.last_script_bytes = script.size();
  return Finish(run_(script), full);
}

Status NftablesProxier::Finish(Status st, bool full) {
  if (!st.ok()) {
    ++stats_.failed_syncs;
    Forget();  // the kernel's state is unknown now: next time, everything
    return st;
  }
  ++(full ? stats_.full_syncs : stats_.partial_syncs);
  synced_ = true;
  return Status::Ok();
}

void NftablesProxier::Forget() {
  synced_ = false;
  large_sets_.clear();
  applied_.clear();
  set_claims_.clear();
  map_claims_.clear();
  chain_claims_.clear();
}

Status NftablesProxier::Cleanup() {
  Forget();
  return run_(RenderDelete("ip", config_.table));
}

}  // namespace kubepp::proxy::nft
