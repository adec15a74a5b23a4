// Identifiers and randomness. Thread safety: safe from any thread.
#pragma once

#include <cstdint>
#include <string>

namespace kubepp::util {

// A random (version 4) UUID, as metadata.uid.
std::string NewUuid();
// `n` characters from upstream's generateName alphabet ("bcdfghjklmnpqrstvwxz2456789").
std::string RandomSuffix(int n);
// Uniform in [0, n).
uint64_t RandomBelow(uint64_t n);

}  // namespace kubepp::util
