// Parsing JSON in tests. Header-only: include it from test sources only.
#pragma once

#include <catch2/catch.hpp>
#include <string_view>

#include "common/api/json.h"

namespace kubepp::testing {

// `text` parsed; the test fails here when it is not JSON.
inline api::Document Json(std::string_view text) {
  auto doc = api::ParseJson(text);
  REQUIRE(doc.ok());
  return std::move(doc).value();
}

}  // namespace kubepp::testing
