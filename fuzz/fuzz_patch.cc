// The three PATCH formats (apiserver/patch.h). Input: a first line naming the format
// ("merge", "json" or "strategic <Kind>"; any other line picks one from its bytes), then
// the object and the patch as JSON separated by a "---" line. Invariants: no crash; a
// failed patch leaves the object unchanged; a result serializes to JSON that parses back
// equal; a merge patch is idempotent (RFC 7386; checked for documents without repeated
// keys).
#include <array>
#include <string>

#include "apiserver/patch.h"
#include "fuzz/fuzz_util.h"

namespace {

enum class Format { kMerge, kJson, kStrategic };
constexpr std::array<std::string_view, 8> kKinds = {
    "Pod", "Deployment", "Node", "Service", "CronJob", "Namespace", "ConfigMap", ""};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kubepp;
  std::string_view text = fuzz::AsText(data, size);
  size_t nl = text.find('\n');
  if (nl == std::string_view::npos) return 0;
  std::string_view head = text.substr(0, nl);
  auto [object_text, patch_text] = fuzz::SplitTwo(text.substr(nl + 1));

  Format format;
  std::string_view kind;
  if (head == "merge") {
    format = Format::kMerge;
  } else if (head == "json") {
    format = Format::kJson;
  } else if (head.rfind("strategic ", 0) == 0) {
    format = Format::kStrategic;
    kind = head.substr(10);
  } else {
    unsigned sum = 0;
    for (char c : head) sum += static_cast<unsigned char>(c);
    format = static_cast<Format>(sum % 3);
    kind = kKinds[(sum / 3) % kKinds.size()];
  }

  auto object = api::ParseJson(object_text);
  auto patch = api::ParseJson(patch_text);
  if (!object.ok() || !patch.ok()) return 0;
  // ParseJson keeps both members of a repeated key and the patch code sees the first, so
  // a merge patch that removes one uncovers the other: idempotence needs unique keys.
  bool repeated = fuzz::HasRepeatedKey(*object) || fuzz::HasRepeatedKey(*patch);
  const std::string before = api::ToJson(*object);
  api::Document target = api::Clone(*object);
  auto apply = [&](api::Document& t) {
    switch (format) {
      case Format::kMerge: return apiserver::ApplyMergePatch(t, *patch);
      case Format::kJson: return apiserver::ApplyJsonPatch(t, *patch);
      case Format::kStrategic: return apiserver::ApplyStrategicMergePatch(t, *patch, kind);
    }
    std::abort();
  };
  Status st = apply(target);
  if (!st.ok()) {
    FUZZ_CHECK(api::ToJson(target) == before, "failed patch changed the object: " + st.message());
    return 0;
  }
  fuzz::CheckJsonRoundTrip(target);
  if (format == Format::kMerge && !repeated) {
    api::Document again = api::Clone(target);
    Status st2 = apply(again);
    FUZZ_CHECK(st2.ok() && api::ToJson(again) == api::ToJson(target),
               "merge patch not idempotent: " + api::ToJson(target) + " vs " +
                   api::ToJson(again));
  }
  return 0;
}
