// Quantity parsing (common/api/quantity.h): no crash and no undefined behaviour (overflowing
// float -> integer conversions) for any string, also when it arrives inside JSON.
#include <string>

#include "common/api/quantity.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kubepp;
  std::string_view text = fuzz::AsText(data, size);
  if (auto q = api::ParseQuantity(text); q.ok()) {
    (void)api::MilliValue(*q);
    (void)api::WholeValue(*q);
  }
  api::Document d;
  d.SetString(text.data(), static_cast<rapidjson::SizeType>(text.size()), d.GetAllocator());
  (void)api::MilliValueOf(d);
  (void)api::WholeValueOf(d);
  // Clients may also send numbers.
  if (auto num = api::ParseJson(text); num.ok()) {
    (void)api::MilliValueOf(*num);
    (void)api::WholeValueOf(*num);
  }
  return 0;
}
