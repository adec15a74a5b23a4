// Service ClusterIP and NodePort allocation. The in-use sets are derived from the
// stored Services at startup (nothing to leak across restarts) and kept current by the
// service handlers: Allocate before the write, Release when the write fails or the
// Service goes away.
// Thread safety: all methods are safe from any thread.
#pragma once

#include <cstdint>
#include <mutex>
#include <set>
#include <string>

#include "common/status.h"

namespace kubepp::apiserver {

class IpAllocator {
 public:
  // `cidr` like "10.96.0.0/12". BadRequest when malformed.
  static Result<IpAllocator> Create(const std::string& cidr);
  IpAllocator(const IpAllocator& o) : base_(o.base_), size_(o.size_), used_(o.used_) {}

  // A free address, marked used. Unavailable when the range is full.
  Result<std::string> AllocateNext();
  // Marks a specific address used: Invalid if outside the range or taken.
  Status Allocate(const std::string& ip);
  void Release(const std::string& ip);
  bool Contains(const std::string& ip) const;
  // The first usable address (x.x.x.1): the `kubernetes` Service's.
  std::string First() const;
  std::string cidr() const { return cidr_; }

 private:
  IpAllocator() = default;
  std::string cidr_;
  uint32_t base_ = 0;
  uint32_t size_ = 0;
  mutable std::mutex mu_;
  std::set<uint32_t> used_;
};

class PortAllocator {
 public:
  PortAllocator(int first, int last) : first_(first), last_(last) {}
  PortAllocator(const PortAllocator& o) : first_(o.first_), last_(o.last_), used_(o.used_) {}
  Result<int> AllocateNext();
  Status Allocate(int port);
  void Release(int port);
  std::string range() const { return std::to_string(first_) + "-" + std::to_string(last_); }

 private:
  int first_, last_;
  std::mutex mu_;
  std::set<int> used_;
};

}  // namespace kubepp::apiserver
