// Label and field selector parsing (common/api/selector.h). Invariants: no crash; an
// accepted label selector's canonical ToString() parses again to the same canonical form
// and the same matching; an input that is JSON goes through LabelSelector::FromJson too.
#include <map>
#include <string>

#include "common/api/selector.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kubepp;
  std::string_view text = fuzz::AsText(data, size);
  const std::map<std::string, std::string> labels = {
      {"app", "web"}, {"tier", "frontend"}, {"n", "5"}, {"example.com/x", ""}};

  if (auto sel = api::LabelSelector::Parse(text); sel.ok()) {
    bool matches = sel->Matches(labels);
    std::string canonical = sel->ToString();
    auto again = api::LabelSelector::Parse(canonical);
    FUZZ_CHECK(again.ok(), "ToString() does not parse: " + canonical);
    FUZZ_CHECK(again->ToString() == canonical, canonical + " -> " + again->ToString());
    FUZZ_CHECK(again->Matches(labels) == matches, "matching changed: " + canonical);
  }

  if (auto sel = api::FieldSelector::Parse(text); sel.ok()) {
    (void)sel->Matches([](std::string_view field) {
      return field == "metadata.name" ? std::string("x") : std::string();
    });
  }

  if (!text.empty() && text[0] == '{') {
    if (auto doc = api::ParseJson(text); doc.ok()) {
      if (auto sel = api::LabelSelector::FromJson(&*doc); sel.ok()) {
        (void)sel->Matches(labels);
        (void)sel->ToString();
      }
    }
  }
  return 0;
}
