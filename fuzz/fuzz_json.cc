// JSON decoding (common/api/json.h ParseJson): no input crashes it, and what it accepts
// serializes (compact and pretty) back to text that parses to the same value.
#include "common/api/json.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kubepp;
  auto doc = api::ParseJson(fuzz::AsText(data, size));
  if (!doc.ok()) return 0;
  fuzz::CheckJsonRoundTrip(*doc);
  std::string text = api::ToJson(*doc);
  auto pretty = api::ParseJson(api::ToPrettyJson(*doc));
  FUZZ_CHECK(pretty.ok() && api::ToJson(*pretty) == text, "pretty");
  api::Document copy = api::Clone(*doc);
  FUZZ_CHECK(api::ToJson(copy) == text, "clone");
  // The path helpers on whatever shape arrived.
  (void)api::GetString(*doc, "metadata.name");
  (void)api::GetInt(*doc, "spec.replicas");
  (void)api::GetStringMap(*doc, "metadata.labels");
  api::SetString(copy, "metadata.name", "x", copy.GetAllocator());
  (void)api::Remove(copy, "metadata.labels");
  return 0;
}
