#include "proxy/nftables/ruleset.h"

namespace kubepp::proxy::nft {
namespace {

void AppendElements(std::string& out, const Set& s) {
  bool first = true;
  for (const auto& [k, v] : s.elements) {
    out += first ? " " : ", ";
    first = false;
    out += k;
    if (s.is_map()) out += " : " + v;
  }
}

// The table block defining `rs` but for the sets in `skip`.
void AppendTable(std::string& out, const Ruleset& rs, const std::set<std::string>& skip) {
  out += "table " + rs.family + " " + rs.table + " {\n";
  // Sets first: rules refer to them by name.
  for (const auto& [name, s] : rs.sets) {
    if (skip.count(name)) continue;
    out += "  " + std::string(s.is_map() ? "map " : "set ") + name + " { " + s.decl;
    if (!s.elements.empty()) {
      out += " elements = {";
      AppendElements(out, s);
      out += " } ;";
    }
    out += " }\n";
  }
  for (const auto& [name, c] : rs.chains) {
    out += "  chain " + name + " {";
    if (!c.hook.empty()) out += " " + c.hook;
    for (const auto& r : c.rules) out += " " + r + " ;";
    out += " }\n";
  }
  out += "}\n";
}

}  // namespace

std::string RenderFull(const Ruleset& rs) {
  std::string t = rs.family + " " + rs.table;
  std::string out = "add table " + t + "\ndelete table " + t + "\n";
  AppendTable(out, rs, {});
  return out;
}

std::string RenderReplace(const Ruleset& rs, const TableObjects& existing,
                          const std::set<std::string>& keep) {
  const std::string t = " " + rs.family + " " + rs.table + " ";
  std::string out = "add table " + rs.family + " " + rs.table + "\n";
  // Rules first (they refer to chains and sets), then the sets (a verdict map's elements
  // refer to chains), then the chains.
  for (const auto& c : existing.chains) out += "flush chain" + t + c + "\n";
  for (const auto& [name, is_map] : existing.sets) {
    if (!keep.count(name)) out += std::string("delete ") + (is_map ? "map" : "set") + t + name + "\n";
  }
  for (const auto& c : existing.chains) out += "delete chain" + t + c + "\n";
  AppendTable(out, rs, keep);
  return out;
}

std::optional<std::string> RenderDiff(const Ruleset& from, const Ruleset& to) {
  if (from.family != to.family || from.table != to.table) return std::nullopt;
  for (const auto& [name, c] : to.chains) {
    auto it = from.chains.find(name);
    if (it != from.chains.end() && it->second.hook != c.hook) return std::nullopt;
    if (it == from.chains.end() && !c.hook.empty()) return std::nullopt;
  }
  for (const auto& [name, s] : to.sets) {
    auto it = from.sets.find(name);
    if (it != from.sets.end() && it->second.decl != s.decl) return std::nullopt;
  }

  const std::string t = " " + to.family + " " + to.table + " ";
  std::string out;
  // 1. New sets and chains exist (empty) before anything refers to them.
  for (const auto& [name, s] : to.sets) {
    if (!from.sets.count(name)) {
      out += "add " + std::string(s.is_map() ? "map" : "set") + t + name + " { " + s.decl + " }\n";
    }
  }
  for (const auto& [name, c] : to.chains) {
    if (!from.chains.count(name)) out += "add chain" + t + name + "\n";
  }
  // 2. Changed chains get their new rules.
  for (const auto& [name, c] : to.chains) {
    auto it = from.chains.find(name);
    if (it != from.chains.end() && it->second.rules == c.rules) continue;
    if (it != from.chains.end()) out += "flush chain" + t + name + "\n";
    for (const auto& r : c.rules) out += "add rule" + t + name + " " + r + "\n";
  }
  // 3. Elements: removed and changed ones go, new and changed ones come.
  for (const auto& [name, s] : to.sets) {
    auto it = from.sets.find(name);
    std::string del, add;
    if (it != from.sets.end()) {
      for (const auto& [k, v] : it->second.elements) {
        auto now = s.elements.find(k);
        if (now == s.elements.end() || now->second != v) del += (del.empty() ? "" : ", ") + k;
      }
    }
    for (const auto& [k, v] : s.elements) {
      if (it != from.sets.end()) {
        auto before = it->second.elements.find(k);
        if (before != it->second.elements.end() && before->second == v) continue;
      }
      add += (add.empty() ? "" : ", ") + k + (s.is_map() ? " : " + v : "");
    }
    if (!del.empty()) out += "delete element" + t + name + " { " + del + " }\n";
    if (!add.empty()) out += "add element" + t + name + " { " + add + " }\n";
  }
  // 4. Gone chains: first emptied (their rules refer to other chains and sets), then
  // deleted; then gone sets, which nothing refers to any more.
  for (const auto& [name, c] : from.chains) {
    if (!to.chains.count(name)) out += "flush chain" + t + name + "\n";
  }
  for (const auto& [name, c] : from.chains) {
    if (!to.chains.count(name)) out += "delete chain" + t + name + "\n";
  }
  for (const auto& [name, s] : from.sets) {
    if (!to.sets.count(name)) out += "delete " + std::string(s.is_map() ? "map" : "set") + t + name + "\n";
  }
  return out;
}

std::string RenderDelete(const std::string& family, const std::string& table) {
  std::string t = family + " " + table;
  return "add table " + t + "\ndelete table " + t + "\n";
}

}  // namespace kubepp::proxy::nft
