#include "common/api/json.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

namespace kubepp::api {
namespace {

// Found by fuzz/fuzz_json: RapidJSON's default conversion read a long number one ulp off,
// and ToJson's text for it parsed to a different double, so numbers drifted on every
// store/read cycle; its full-precision mode instead read "0e308" as -6e-269 (clz(0)).
TEST_CASE("ParseJson reads numbers exactly, so ToJson round-trips them") {
  for (const char* text : {"[9223372018446744073709550]", "[9.223372018446745e24]",
                           "[0.1]", "[1.7976931348623157e308]", "[5e-324]",
                           "[123456789012345678901234567890.123456789]"}) {
    INFO(text);
    auto doc = ParseJson(text);
    REQUIRE(doc.ok());
    std::string written = ToJson(*doc);
    auto back = ParseJson(written);
    REQUIRE(back.ok());
    CHECK(static_cast<const Value&>(*back) == static_cast<const Value&>(*doc));
    CHECK(ToJson(*back) == written);
  }
}

TEST_CASE("ParseJson: zero significands, underflow, overflow and integer typing") {
  auto doc = ParseJson("[0e308, 0.0e23, -0e100, 1e-400, 5e-324, 0.5, -0, 42, -42, "
                       "18446744073709551615, -9223372036854775808, 18446744073709551616]");
  REQUIRE(doc.ok());
  const Value& a = *doc;
  for (int i = 0; i < 4; ++i) {
    INFO(i);
    CHECK(a[i].IsDouble());
    CHECK(a[i].GetDouble() == 0);
  }
  CHECK(std::signbit(a[2].GetDouble()));
  CHECK(a[4].GetDouble() == 5e-324);
  CHECK(a[5].GetDouble() == 0.5);
  CHECK(a[6].IsInt());
  CHECK(a[6].GetInt() == 0);
  CHECK(a[7].IsInt());
  CHECK(a[7].GetInt() == 42);
  CHECK(a[8].GetInt() == -42);
  CHECK(a[9].IsUint64());
  CHECK(a[9].GetUint64() == 18446744073709551615u);
  CHECK(a[10].IsInt64());
  CHECK(a[10].GetInt64() == std::numeric_limits<int64_t>::min());
  CHECK(a[11].IsDouble());
  CHECK(a[11].GetDouble() == 18446744073709551616.0);
  CHECK(ToJson(a) ==
        "[0.0,0.0,-0.0,0.0,5e-324,0.5,0,42,-42,18446744073709551615,-9223372036854775808,"
        "18446744073709553000.0]");

  // 99e307 passes RapidJSON's exponent check but is beyond double: an error, not inf
  // (which ToJson could not write).
  auto big = ParseJson("{\"a\":99e307}");
  REQUIRE_FALSE(big.ok());
  CHECK(big.status().message() == "invalid JSON at offset 5: Number too big to be stored in double.");
  auto bad = ParseJson("[1e999]");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("Number too big") != std::string::npos);
}

TEST_CASE("ParseJson: syntax errors and nesting limit are BadRequest") {
  auto bad = ParseJson("{\"a\":");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("invalid JSON at offset") != std::string::npos);
  CHECK(ParseJson(std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']')).ok());
  auto deep = ParseJson(std::string(kMaxJsonDepth + 2, '[') + std::string(kMaxJsonDepth + 2, ']'));
  REQUIRE_FALSE(deep.ok());
  CHECK(deep.status().message().find("deeper") != std::string::npos);
}

}  // namespace
}  // namespace kubepp::api

namespace kubepp::api {
namespace {

TEST_CASE("WithinMaxDepth: what ParseJson would accept") {
  std::string deep(kMaxJsonDepth, '[');
  deep += std::string(kMaxJsonDepth, ']');
  auto ok = ParseJson(deep);
  REQUIRE(ok.ok());
  CHECK(WithinMaxDepth(*ok));
  Document d;
  d.SetArray();
  Value* inner = &d;
  for (int i = 0; i < kMaxJsonDepth + 1; ++i) {  // built in memory, one level deeper
    inner->PushBack(Value(rapidjson::kArrayType), d.GetAllocator());
    inner = &(*inner)[0];
  }
  CHECK_FALSE(WithinMaxDepth(d));
  CHECK_FALSE(ParseJson(ToJson(d)).ok());
}

}  // namespace
}  // namespace kubepp::api

namespace kubepp::api {

TEST_CASE("DropRepeatedMembers keeps the last of repeated names and reports their paths") {
  auto d = ParseJson(
      R"({"metadata":{"name":"a","labels":{"x":"1"},"name":"b"},)"
      R"("spec":{"containers":[{"image":"i1","name":"c","image":"i2","image":"i3"}]},"kind":"Pod","kind":"Pod"})");
  REQUIRE(d.ok());
  std::vector<std::string> repeated;
  DropRepeatedMembers(*d, &repeated);
  CHECK(repeated == std::vector<std::string>{"kind", "metadata.name", "spec.containers[0].image"});
  CHECK(ToJson(*d) ==
        R"({"metadata":{"labels":{"x":"1"},"name":"b"},"spec":{"containers":[{"name":"c","image":"i3"}]},"kind":"Pod"})");
  std::vector<std::string> none;
  DropRepeatedMembers(*d, &none);
  CHECK(none.empty());
}

TEST_CASE("Freeze: an equal, independent copy in one block sized to fit") {
  auto src = ParseJson(R"({"metadata":{"name":"web-0","labels":{"app":"a-rather-long-label-value"}},)"
                       R"("spec":{"containers":[{"name":"c","image":"busybox","args":["1",2,3.5,null,true]}]}})");
  REQUIRE(src.ok());
  std::shared_ptr<const Document> frozen = Freeze(*src);
  CHECK(static_cast<const Value&>(*frozen) == static_cast<const Value&>(*src));
  CHECK(ToJson(*frozen) == ToJson(*src));
  // All of it in one pool chunk, of exactly the size used.
  auto& pool = const_cast<Document&>(*frozen).GetAllocator();
  CHECK(pool.Size() == pool.Capacity());
  // Independent of the source.
  src->SetNull();
  CHECK(GetString(*frozen, "metadata.labels.app") == "a-rather-long-label-value");

  // Scalars, empty containers, and a value larger than the scratch pool's chunk.
  CHECK(ToJson(*Freeze(Value(7))) == "7");
  Document big;
  big.SetArray();
  for (int i = 0; i < 5000; ++i) {
    big.PushBack(Value(std::string(40, 'a' + i % 26), big.GetAllocator()), big.GetAllocator());
  }
  auto fb = Freeze(big);
  CHECK(static_cast<const Value&>(*fb) == static_cast<const Value&>(big));
  auto& bp = const_cast<Document&>(*fb).GetAllocator();
  CHECK(bp.Size() == bp.Capacity());
}

}  // namespace kubepp::api
