// A model of one nftables table (chains with their rules, sets and verdict maps with their
// elements) and the two texts `nft -f -` needs: the whole table, replaced atomically, and
// the transaction that turns one model into another (what changed, only).
//
// Diffs are computed between models, not against the kernel: after a restart or any
// failed transaction the caller must render the whole table again.
// Thread safety: values; functions are pure.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace kubepp::proxy::nft {

struct Chain {
  // For a base chain: "type nat hook output priority -100; policy accept;". Empty for a
  // regular chain (reached by jump/goto).
  std::string hook;
  std::vector<std::string> rules;
  bool operator==(const Chain&) const = default;
};

// A set (values empty) or a map (values are the mapped data, e.g. "goto service-x").
struct Set {
  std::string decl;  // "type ipv4_addr . inet_proto . inet_service : verdict;" etc.
  std::map<std::string, std::string> elements;  // key -> value
  bool is_map() const { return decl.find(':') != std::string::npos; }
  bool operator==(const Set&) const = default;
};

struct Ruleset {
  std::string family = "ip";
  std::string table = "kubepp";
  std::map<std::string, Chain> chains;
  std::map<std::string, Set> sets;
  bool operator==(const Ruleset&) const = default;
};

// Creates the table if needed, deletes it and defines it anew, in one transaction: the
// kernel switches from the old rules to the new ones atomically.
std::string RenderFull(const Ruleset& rs);

// What a table in the kernel holds, by name: its chains, and its named sets and maps.
struct TableObjects {
  std::set<std::string> chains;
  std::map<std::string, bool> sets;  // name -> whether it is a map
};

// RenderFull over a table that holds `existing`, keeping the sets named in `keep`, which
// must be there already (elements included): every existing chain is emptied and deleted,
// every other existing set deleted, and `rs` but for the kept sets defined anew, in one
// transaction.
std::string RenderReplace(const Ruleset& rs, const TableObjects& existing,
                          const std::set<std::string>& keep);

// The transaction from `from` to `to` (empty when they are equal), or nullopt when only
// RenderFull can express the change (another table, a changed base chain or set
// declaration).
std::optional<std::string> RenderDiff(const Ruleset& from, const Ruleset& to);

// Removes the table if it exists.
std::string RenderDelete(const std::string& family, const std::string& table);

}  // namespace kubepp::proxy::nft
