// YAML decoding (common/api/yaml.h): no input crashes ParseYaml / ParseJsonOrYaml, every
// document it yields is JSON-serializable, and ToYaml of it reads back to the same value
// (the contract ToYaml states).
//
// Known gap, not checked: ParseYaml passes invalid UTF-8 through (a key "\xfe\xff..."),
// and ToYaml's output for it does not read back the same, so the round trip is checked
// for valid UTF-8 input only.
#include "common/api/yaml.h"
#include "fuzz/fuzz_util.h"

namespace {

// Well-formed lead/continuation byte structure (overlong forms are not looked for).
bool ValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : 4;
    if (n == 4) return false;
    for (size_t k = 1; k <= n; ++k) {
      if (i + k >= s.size() || (static_cast<unsigned char>(s[i + k]) >> 6) != 2) return false;
    }
    i += n + 1;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kubepp;
  std::string_view text = fuzz::AsText(data, size);
  (void)api::ParseJsonOrYaml(text);
  auto docs = api::ParseYaml(text);
  if (!docs.ok() || !ValidUtf8(text)) return 0;
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
