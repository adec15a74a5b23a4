#include "controller-manager/nodeipam/cidr.h"

#include <arpa/inet.h>

namespace kubepp::controller {
namespace {

// "a.b.c.d/n" -> {address, n}.
std::optional<std::pair<uint32_t, int>> ParseCidr(const std::string& s) {
  size_t slash = s.find('/');
  if (slash == std::string::npos) return std::nullopt;
  in_addr addr{};
  if (inet_pton(AF_INET, s.substr(0, slash).c_str(), &addr) != 1) return std::nullopt;
  std::string len = s.substr(slash + 1);
  if (len.empty() || len.size() > 2 || len.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  int prefix = std::stoi(len);
  if (prefix > 32) return std::nullopt;
  return std::make_pair(ntohl(addr.s_addr), prefix);
}

uint32_t Mask(int prefix) { return prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix); }

}  // namespace

Result<CidrSet> CidrSet::Create(const std::string& cluster_cidr, int mask_size) {
  auto parsed = ParseCidr(cluster_cidr);
  if (!parsed) return BadRequest("invalid IPv4 cluster CIDR \"" + cluster_cidr + "\"");
  auto [addr, prefix] = *parsed;
  if (mask_size < prefix || mask_size > 32 || mask_size - prefix > 20) {
    return BadRequest("node CIDR mask size " + std::to_string(mask_size) +
                      " does not fit cluster CIDR " + cluster_cidr);
  }
  CidrSet set;
  set.base_ = addr & Mask(prefix);
  set.mask_size_ = mask_size;
  set.used_.assign(size_t{1} << (mask_size - prefix), false);
  return set;
}

std::string CidrSet::CidrAt(size_t index) const {
  uint32_t a = base_ + (static_cast<uint32_t>(index) << (32 - mask_size_));
  return std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 255) + "." +
         std::to_string((a >> 8) & 255) + "." + std::to_string(a & 255) + "/" +
         std::to_string(mask_size_);
}

std::optional<size_t> CidrSet::IndexOf(const std::string& cidr) const {
  auto parsed = ParseCidr(cidr);
  if (!parsed || parsed->second != mask_size_) return std::nullopt;
  uint32_t a = parsed->first;
  if ((a & Mask(mask_size_)) != a || a < base_) return std::nullopt;
  size_t index = (a - base_) >> (32 - mask_size_);
  if (index >= used_.size()) return std::nullopt;
  return index;
}

std::optional<std::string> CidrSet::Allocate() {
  for (size_t i = 0; i < used_.size(); ++i) {
    size_t index = (next_ + i) % used_.size();
    if (!used_[index]) {
      used_[index] = true;
      ++used_count_;
      next_ = index + 1;
      return CidrAt(index);
    }
  }
  return std::nullopt;
}

bool CidrSet::Occupy(const std::string& cidr) {
  auto index = IndexOf(cidr);
  if (!index) return false;
  if (!used_[*index]) ++used_count_;
  used_[*index] = true;
  return true;
}

void CidrSet::Release(const std::string& cidr) {
  auto index = IndexOf(cidr);
  if (!index || !used_[*index]) return;
  used_[*index] = false;
  --used_count_;
}

size_t CidrSet::Free() const { return used_.size() - used_count_; }

}  // namespace kubepp::controller
