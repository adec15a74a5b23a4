#include "common/api/quantity.h"

#include <catch2/catch.hpp>

#include <limits>
#include <string>

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

// Found by fuzz/fuzz_quantity: values beyond int64 were converted with undefined behaviour
// (a "3.Ei" cpu limit read as a negative number of millis on x86).
TEST_CASE("quantities: values outside int64 saturate, non-finite ones are rejected") {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  auto q = api::ParseQuantity("3.Ei");
  REQUIRE(q.ok());
  CHECK(api::MilliValue(*q) == kMax);
  CHECK(api::WholeValue(*q) == 3458764513820540928);
  CHECK(api::MilliValue(-*q) == kMin);
  CHECK(api::WholeValue(1e300) == kMax);
  CHECK(api::MilliValue(std::numeric_limits<double>::quiet_NaN()) == 0);
  for (const char* huge : {"1e400", "-1e309", "1E999", "5e+400"}) {
    INFO(huge);
    auto r = api::ParseQuantity(huge);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message().find("out of range") != std::string::npos);
  }
  auto zero = api::ParseQuantity("0e999");
  REQUIRE(zero.ok());
  CHECK(*zero == 0);
  auto tiny = api::ParseQuantity("1e-400");
  REQUIRE(tiny.ok());
  CHECK(api::MilliValue(*tiny) == 0);
  auto doc = api::ParseJson(R"({"cpu":"10E","n":1e300})");
  REQUIRE(doc.ok());
  CHECK(api::MilliValueOf((*doc)["cpu"]) == kMax);
  CHECK(api::WholeValueOf((*doc)["n"]) == kMax);
}
