#include "proxy/iptables/proxier.h"

#include <malloc.h>

#include <algorithm>

#include "common/log.h"

namespace kubepp::proxy::ipt {

Result<util::CommandResult> RunCommand(const std::vector<std::string>& argv,
                                       std::string_view input) {
  // A restore of tens of thousands of chains takes minutes with the nft backend.
  return util::RunCommand(argv, input, std::chrono::minutes(10));
}

namespace {

// FNV-1a over every chain name and rule, with separators.
uint64_t Fingerprint(const Tables& t) {
  uint64_t h = 14695981039346656037ull;
  auto add = [&h](const std::string& s, char end) {
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
    h = (h ^ static_cast<unsigned char>(end)) * 1099511628211ull;
  };
  for (const Chains* chains : {&t.nat, &t.filter}) {
    for (const auto& [name, rules] : *chains) {
      add(name, ':');
      for (const auto& r : rules) add(r, '\n');
    }
    add("", '*');
  }
  return h;
}

std::set<std::string> Names(const Chains& chains) {
  std::set<std::string> out;
  for (const auto& [name, rules] : chains) out.insert(name);
  return out;
}

}  // namespace

IptablesProxier::IptablesProxier(RenderConfig config, std::string backend,
                                 std::set<std::string> locally_served, CommandRunner run)
    : config_(std::move(config)),
      backend_(std::move(backend)),
      locally_served_(std::move(locally_served)),
      run_(std::move(run)) {}

std::string IptablesProxier::Tool(const std::string& suffix) const {
  std::string base = backend_.empty() ? "iptables" : "iptables-" + backend_;
  return suffix.empty() ? base : base + "-" + suffix;
}

Status IptablesProxier::Run(const std::vector<std::string>& argv, std::string_view input) {
  ASSIGN_OR_RETURN(util::CommandResult r, run_(argv, input));
  if (r.exit_code != 0) {
    std::string cmd;
    for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
    return Internal(cmd + " failed (exit " + std::to_string(r.exit_code) + "): " +
                    r.err.substr(0, 2000));
  }
  return Status::Ok();
}

Result<std::pair<std::set<std::string>, std::set<std::string>>> IptablesProxier::ListChains() {
  std::pair<std::set<std::string>, std::set<std::string>> out;
  for (const char* table : {"nat", "filter"}) {
    ASSIGN_OR_RETURN(util::CommandResult r, run_({Tool("save"), "-t", table}, ""));
    if (r.exit_code != 0) {
      return Internal(Tool("save") + " -t " + table + " failed: " + r.err.substr(0, 500));
    }
    (std::string(table) == "nat" ? out.first : out.second) =
        ChainsWithPrefix(r.out, table, config_.prefix);
  }
  return out;
}

Status IptablesProxier::EnsureJumps() {
  for (const Jump& j : Jumps(config_)) {
    std::vector<std::string> check = {Tool(""), "-w", "5", "-t", j.table, "-C", j.chain};
    check.insert(check.end(), j.rule.begin(), j.rule.end());
    ASSIGN_OR_RETURN(util::CommandResult r, run_(check, ""));
    if (r.exit_code == 0) continue;
    std::vector<std::string> insert = check;
    insert[5] = "-I";
    RETURN_IF_ERROR(Run(insert));
  }
  return Status::Ok();
}

Status IptablesProxier::Sync(const Snapshot& snapshot, bool full) {
  Snapshot ours;
  for (const auto& p : snapshot.ports) {
    if (!locally_served_.count(p->cluster_ip)) ours.ports.push_back(p);
  }
  Tables t = Render(ours, config_);
  uint64_t fingerprint = Fingerprint(t);
  std::set<std::string> stale_nat, stale_filter;
  if (full || !synced_) {
    // Whatever of ours the kernel holds (also from before a restart) goes unless rendered.
    auto existing = ListChains();
    if (!existing.ok()) {
      synced_ = false;
      return existing.status();
    }
    stale_nat = std::move(existing->first);
    stale_filter = std::move(existing->second);
  } else {
    if (fingerprint == applied_fingerprint_) return Status::Ok();
    stale_nat = applied_nat_;
    stale_filter = applied_filter_;
  }
  std::erase_if(stale_nat, [&](const std::string& n) { return t.nat.count(n) > 0; });
  std::erase_if(stale_filter, [&](const std::string& n) { return t.filter.count(n) > 0; });
  Status st = Run({Tool("restore"), "--noflush", "-w", "5"}, RestoreInput(t, stale_nat, stale_filter));
  if (st.ok() && (full || !synced_)) st = EnsureJumps();
  synced_ = st.ok();
  if (st.ok()) {
    VLOG(1) << "proxy: iptables " << (full ? "full " : "") << "sync: " << t.nat.size()
            << " nat and " << t.filter.size() << " filter chains, "
            << stale_nat.size() + stale_filter.size() << " removed";
    applied_nat_ = Names(t.nat);
    applied_filter_ = Names(t.filter);
    applied_fingerprint_ = fingerprint;
  }
  t = Tables{};
  malloc_trim(0);  // the rules and their text were large and are gone
  return st;
}

Status IptablesProxier::Cleanup() {
  synced_ = false;
  Status result = Status::Ok();
  for (const Jump& j : Jumps(config_)) {
    std::vector<std::string> del = {Tool(""), "-w", "5", "-t", j.table, "-D", j.chain};
    del.insert(del.end(), j.rule.begin(), j.rule.end());
    // Delete every copy; a missing rule (or chain) ends the loop.
    for (int i = 0; i < 10; ++i) {
      auto r = run_(del, "");
      if (!r.ok() || r->exit_code != 0) break;
    }
  }
  auto existing = ListChains();
  if (!existing.ok()) return existing.status();
  if (existing->first.empty() && existing->second.empty()) return result;
  return Run({Tool("restore"), "--noflush", "-w", "5"},
             RestoreInput(Tables{}, existing->first, existing->second));
}

}  // namespace kubepp::proxy::ipt
