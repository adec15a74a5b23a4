#include "common/api/quantity.h"

#include <catch2/catch.hpp>

using namespace kubepp;

TEST_CASE("quantities: milli and whole values as upstream rounds them") {
  struct Case {
    const char* text;
    int64_t milli, whole;
  } cases[] = {
      {"100m", 100, 1},   {"1", 1000, 1},          {"0.5", 500, 1},     {"2.5", 2500, 3},
      {"1Ki", 1024000, 1024}, {"128Mi", 134217728000, 134217728}, {"1G", 1000000000000, 1000000000},
      {"1e3", 1000000, 1000}, {"0.1", 100, 1},    {"1u", 1, 1},
  };
  for (const auto& c : cases) {
    auto q = api::ParseQuantity(c.text);
    REQUIRE(q.ok());
    CHECK(api::MilliValue(*q) == c.milli);
    CHECK(api::WholeValue(*q) == c.whole);
  }
  for (const char* bad : {"", "abc", "1.2.3", "5X", "m"}) CHECK_FALSE(api::ParseQuantity(bad).ok());
  auto doc = api::ParseJson(R"({"cpu":"250m","n":2,"bad":"x"})");
  REQUIRE(doc.ok());
  CHECK(api::MilliValueOf((*doc)["cpu"]) == 250);
  CHECK(api::MilliValueOf((*doc)["n"]) == 2000);
  CHECK(api::MilliValueOf((*doc)["bad"]) == 0);
}
