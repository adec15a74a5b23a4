#include "apiserver/request_info.h"

#include <vector>

namespace kubepp::apiserver {
namespace {

std::vector<std::string_view> Split(std::string_view path) {
  std::vector<std::string_view> out;
  while (!path.empty()) {
    size_t slash = path.find('/');
    std::string_view seg = path.substr(0, slash);
    if (!seg.empty()) out.push_back(seg);
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

Status NotServed() {
  return NotFound("the server could not find the requested resource");
}

}  // namespace

Result<RequestInfo> ParseResourcePath(std::string_view path) {
  auto seg = Split(path);
  std::string_view group, version;
  size_t i;
  if (seg.size() >= 3 && seg[0] == "api") {
    version = seg[1];
    i = 2;
  } else if (seg.size() >= 4 && seg[0] == "apis") {
    group = seg[1];
    version = seg[2];
    i = 3;
  } else {
    return NotServed();
  }
  RequestInfo info;
  // "namespaces/<ns>/<resource>..." scopes a namespaced resource, except the
  // namespace object's own paths (namespaces/<name>[/status|/finalize]).
  if (seg[i] == "namespaces" && seg.size() - i >= 3 && seg[i + 2] != "status" &&
      seg[i + 2] != "finalize") {
    info.ns = std::string(seg[i + 1]);
    i += 2;
  }
  const ResourceInfo* r = FindResource(group, version, seg[i]);
  if (r == nullptr) return NotServed();
  if (!info.ns.empty() && !r->namespaced) return NotServed();
  info.resource = r;
  size_t rest = seg.size() - i - 1;
  if (rest >= 1) info.name = std::string(seg[i + 1]);
  if (rest >= 2) {
    info.subresource = std::string(seg[i + 2]);
    if (!r->HasSubresource(info.subresource)) return NotServed();
  }
  if (rest >= 3) return NotServed();
  return info;
}

}  // namespace kubepp::apiserver
