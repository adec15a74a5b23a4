// What the apiserver makes of a request line's target once Beast has parsed the HTTP
// framing (Beast's own parser is not ours to fuzz): common/http/types.h ParseTarget (path
// and query percent-decoding), then apiserver/request_info.h ParseResourcePath on the
// path, and the selector query parameters as the list handler parses them.
#include <map>
#include <string>

#include "apiserver/request_info.h"
#include "common/api/selector.h"
#include "common/http/types.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kubepp;
  std::string_view target = fuzz::AsText(data, size);
  std::string path;
  std::map<std::string, std::string> query;
  if (!http::ParseTarget(target, &path, &query)) return 0;
  if (auto info = apiserver::ParseResourcePath(path); info.ok()) {
    FUZZ_CHECK(info->resource != nullptr, path);
  }
  if (auto it = query.find("labelSelector"); it != query.end()) {
    (void)api::LabelSelector::Parse(it->second);
  }
  if (auto it = query.find("fieldSelector"); it != query.end()) {
    (void)api::FieldSelector::Parse(it->second);
  }
  // Encoding a decoded component and decoding it again is the identity.
  bool ok = false;
  std::string round = http::PercentDecode(http::PercentEncode(path), false, &ok);
  FUZZ_CHECK(ok && round == path, path);
  return 0;
}
