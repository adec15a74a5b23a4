// Helpers shared by the kubelet's unit tests: temporary directories, JSON literals,
// waiting for asynchronous conditions.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>

#include "common/api/json.h"
#include "common/testing/temp_dir.h"

namespace kubepp::kubelet::testing {

using ::kubepp::testing::TempDir;

inline api::Document Json(const std::string& text) {
  auto d = api::ParseJson(text);
  if (!d.ok()) throw std::runtime_error("bad test JSON: " + d.status().message());
  return std::move(d).value();
}

// Polls `cond` every few milliseconds for up to `timeout`.
inline bool WaitFor(const std::function<bool()>& cond,
                    std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return cond();
}

}  // namespace kubepp::kubelet::testing
