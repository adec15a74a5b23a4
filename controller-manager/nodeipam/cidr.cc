#include "controller-manager/nodeipam/cidr.h"

#include "common/net/ipv4.h"

namespace kubepp::controller {

Result<CidrSet> CidrSet::Create(const std::string& cluster_cidr, int mask_size) {
  auto parsed = net::ParseIpv4Cidr(cluster_cidr);
  if (!parsed.ok()) return BadRequest("invalid IPv4 cluster CIDR \"" + cluster_cidr + "\"");
  if (mask_size < parsed->prefix || mask_size > 32 || mask_size - parsed->prefix > 20) {
    return BadRequest("node CIDR mask size " + std::to_string(mask_size) +
                      " does not fit cluster CIDR " + cluster_cidr);
  }
  CidrSet set;
  set.base_ = parsed->base;
  set.mask_size_ = mask_size;
  set.used_.assign(size_t{1} << (mask_size - parsed->prefix), false);
  return set;
}

std::string CidrSet::CidrAt(size_t index) const {
  return net::Ipv4Cidr{base_ + (static_cast<uint32_t>(index) << (32 - mask_size_)), mask_size_}
      .ToString();
}

std::optional<size_t> CidrSet::IndexOf(const std::string& cidr) const {
  auto parsed = net::ParseIpv4Cidr(cidr);
  if (!parsed.ok() || parsed->prefix != mask_size_ || parsed->ToString() != cidr ||
      parsed->base < base_) {
    return std::nullopt;
  }
  size_t index = (parsed->base - base_) >> (32 - mask_size_);
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
