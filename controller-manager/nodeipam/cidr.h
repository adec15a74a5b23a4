// IPv4 CIDR arithmetic for node pod-CIDR allocation: a cluster CIDR cut into equal
// subnets, each free or taken (upstream's cidrset).
// Thread safety: not synchronized; NodeIpamController guards it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace kubepp::controller {

class CidrSet {
 public:
  // `cluster_cidr` "10.244.0.0/16" cut into /`mask_size` subnets. BadRequest for a
  // malformed CIDR, IPv6, or a mask size not in [prefix, 32] (or more than 2^20 subnets).
  static Result<CidrSet> Create(const std::string& cluster_cidr, int mask_size);

  // The next free subnet ("10.244.3.0/24"), or nullopt when all are taken.
  std::optional<std::string> Allocate();
  // Marks `cidr` taken. False when it is not one of this set's subnets.
  bool Occupy(const std::string& cidr);
  void Release(const std::string& cidr);
  size_t Free() const;

 private:
  std::optional<size_t> IndexOf(const std::string& cidr) const;
  std::string CidrAt(size_t index) const;

  uint32_t base_ = 0;
  int mask_size_ = 0;
  std::vector<bool> used_;
  size_t next_ = 0;  // where the search for a free subnet starts (round robin)
  size_t used_count_ = 0;
};

}  // namespace kubepp::controller
