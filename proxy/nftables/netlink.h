// Set elements written to the kernel as nf_tables netlink messages, without nft's parser.
//
// `nft -f` spends ~8 µs of its own per element of a concatenated map (parsing, evaluating,
// ~2 KB of heap each): 0.9 s for the 100,000 slot elements of 10,000 Services x 10
// endpoints, most of a full sync. Encoded here, an element costs well under a microsecond
// plus the kernel's insertion. Only what the proxier needs is supported: maps and sets
// declared with `typeof` over IPv4 addresses, ports and numgen (the slot maps).
// Thread safety: the functions are pure; a NetlinkElementLoader serves one call at a time.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "proxy/nftables/ruleset.h"

namespace kubepp::proxy::nft {

// Loads elements into the kernel's sets (the seam the proxier's tests replace).
class ElementLoader {
 public:
  virtual ~ElementLoader() = default;
  // The chains and named sets of table `table` of family `family` ("ip"), or nullopt when
  // there is no such table.
  virtual Result<std::optional<TableObjects>> Objects(const std::string& family,
                                                      const std::string& table) = 0;
  // Adds the elements of `s` (as the Ruleset holds them) to its set `name`, which must
  // exist, empty or holding none of them. Not one transaction: after a failure some may be
  // there (the proxier loads only sets that no rule uses yet).
  virtual Status Add(const std::string& family, const std::string& table, const std::string& name,
                     const Set& s) = 0;
};

// How one field of an element's key or data sits in the kernel's 4-byte registers.
enum class Field {
  kIpv4,     // `ip saddr|daddr`: 4 bytes, network order
  kPort,     // `tcp|udp|sctp|th sport|dport`: 2 bytes, network order, 2 bytes of padding
  kHostU32,  // `numgen ...`: 4 bytes, host order
};
struct Layout {
  std::vector<Field> key, data;  // data empty for a set
};

// The layout of a `typeof` declaration such as
// "typeof ip daddr . tcp dport . numgen random mod 1 : ip daddr . tcp dport ;".
Result<Layout> LayoutOf(std::string_view decl);

// The bytes of one key or value written as nft prints it ("10.96.0.1 . 80 . 3").
Result<std::string> Encode(const std::vector<Field>& fields, std::string_view text);

// The kernel, over a NETLINK_NETFILTER socket opened for each call (root).
class NetlinkElementLoader : public ElementLoader {
 public:
  Result<std::optional<TableObjects>> Objects(const std::string& family,
                                              const std::string& table) override;
  Status Add(const std::string& family, const std::string& table, const std::string& name,
             const Set& s) override;
};

}  // namespace kubepp::proxy::nft
