// YAML decoding (common/api/yaml.h): no input crashes ParseYaml / ParseJsonOrYaml, every
// document it yields is JSON-serializable, and ToYaml of it reads back to the same value
// (the contract ToYaml states).
#include "common/api/yaml.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kubepp;
  std::string_view text = fuzz::AsText(data, size);
  (void)api::ParseJsonOrYaml(text);
  auto docs = api::ParseYaml(text);
  if (!docs.ok()) return 0;
  for (const api::Document& d : *docs) {
    fuzz::CheckJsonRoundTrip(d);
    std::string yaml = api::ToYaml(d);
    auto back = api::ParseYaml(yaml);
    FUZZ_CHECK(back.ok(), back.status().message() + " in\n" + yaml);
    FUZZ_CHECK(back->size() == 1, "ToYaml gave " + std::to_string(back->size()) +
                                      " documents:\n" + yaml);
    FUZZ_CHECK(static_cast<const api::Value&>((*back)[0]) == d,
               api::ToJson(d) + " -> \n" + yaml + " -> " + api::ToJson((*back)[0]));
  }
  return 0;
}
