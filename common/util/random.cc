#include "common/util/random.h"

#include <cstdio>
#include <mutex>
#include <random>

namespace kubepp::util {
namespace {

std::mt19937_64& Engine(std::unique_lock<std::mutex>& lock) {
  static std::mutex mu;
  static std::mt19937_64 engine{std::random_device{}()};
  lock = std::unique_lock<std::mutex>(mu);
  return engine;
}

}  // namespace

uint64_t RandomBelow(uint64_t n) {
  std::unique_lock<std::mutex> l;
  auto& e = Engine(l);
  return std::uniform_int_distribution<uint64_t>(0, n - 1)(e);
}

std::string NewUuid() {
  uint64_t hi, lo;
  {
    std::unique_lock<std::mutex> l;
    auto& e = Engine(l);
    hi = e();
    lo = e();
  }
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant 10
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx",
                static_cast<unsigned>(hi >> 32), static_cast<unsigned>((hi >> 16) & 0xffff),
                static_cast<unsigned>(hi & 0xffff), static_cast<unsigned>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xffffffffffffULL));
  return buf;
}

std::string RandomSuffix(int n) {
  static const char kAlphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  std::string out;
  for (int i = 0; i < n; ++i) out.push_back(kAlphabet[RandomBelow(sizeof kAlphabet - 1)]);
  return out;
}

}  // namespace kubepp::util
