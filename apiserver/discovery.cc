#include "apiserver/discovery.h"

#include "apiserver/resources.h"
#include "common/api/json.h"

namespace kubepp::apiserver {
namespace {

std::string Quoted(std::string_view s) {
  std::string out;
  api::AppendQuoted(out, s);
  return out;
}

std::string StringArray(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? "," : "") + Quoted(v[i]);
  return out + "]";
}

std::string GroupVersionJson(const GroupVersion& g) {
  return R"({"groupVersion":)" + Quoted(g.group + "/" + g.version) + R"(,"version":)" +
         Quoted(g.version) + "}";
}

std::string GroupJson(const GroupVersion& g) {
  std::string gv = GroupVersionJson(g);
  return R"({"name":)" + Quoted(g.group) + R"(,"versions":[)" + gv +
         R"(],"preferredVersion":)" + gv + "}";
}

// One APIResource entry.
std::string Resource(const std::string& name, const std::string& singular, bool namespaced,
                     const std::string& group, const std::string& version,
                     const std::string& kind, const std::vector<std::string>& verbs,
                     const std::vector<std::string>& short_names,
                     const std::vector<std::string>& categories) {
  std::string out = R"({"name":)" + Quoted(name) + R"(,"singularName":)" + Quoted(singular) +
                    R"(,"namespaced":)" + (namespaced ? "true" : "false");
  if (!group.empty()) out += R"(,"group":)" + Quoted(group);
  if (!version.empty()) out += R"(,"version":)" + Quoted(version);
  out += R"(,"kind":)" + Quoted(kind) + R"(,"verbs":)" + StringArray(verbs);
  if (!short_names.empty()) out += R"(,"shortNames":)" + StringArray(short_names);
  if (!categories.empty()) out += R"(,"categories":)" + StringArray(categories);
  return out + "}";
}

}  // namespace

std::string VersionJson() {
  return std::string(R"({"major":"1","minor":"33","gitVersion":")") + std::string(kGitVersion) +
         R"(","gitCommit":"kubepp","gitTreeState":"clean","buildDate":"2026-11-27T00:00:00Z",)"
         R"("goVersion":"go1.24.0","compiler":"gc","platform":"linux/amd64"})";
}

std::string ApiVersionsJson(std::string_view server_address) {
  return R"({"kind":"APIVersions","versions":["v1"],"serverAddressByClientCIDRs":[{"clientCIDR":"0.0.0.0/0","serverAddress":)" +
         Quoted(server_address) + "}]}";
}

std::string ApiGroupListJson() {
  std::string out = R"({"kind":"APIGroupList","apiVersion":"v1","groups":[)";
  auto groups = ApiGroups();
  for (size_t i = 0; i < groups.size(); ++i) out += (i ? "," : "") + GroupJson(groups[i]);
  return out + "]}";
}

std::string ApiGroupJson(std::string_view group) {
  for (const auto& g : ApiGroups()) {
    if (g.group == group) {
      std::string body = GroupJson(g);
      return R"({"kind":"APIGroup","apiVersion":"v1",)" + body.substr(1);
    }
  }
  return "";
}

std::string ApiResourceListJson(std::string_view group, std::string_view version) {
  static const std::vector<std::string> kAll = {"create", "delete", "deletecollection", "get",
                                                "list",   "patch",  "update",           "watch"};
  static const std::vector<std::string> kGetUpdate = {"get", "patch", "update"};
  std::string items;
  bool found = false;
  for (const auto& r : AllResources()) {
    if (r.group != group || r.version != version) continue;
    found = true;
    auto add = [&](std::string entry) { items += (items.empty() ? "" : ",") + entry; };
    static const std::vector<std::string> kCreate = {"create"};
    add(Resource(r.plural, r.singular, r.namespaced, "", "", r.kind, r.review ? kCreate : kAll,
                 r.short_names, r.categories));
    for (const auto& sub : r.subresources) {
      std::string name = r.plural + "/" + sub;
      if (sub == "status") {
        add(Resource(name, "", r.namespaced, "", "", r.kind, kGetUpdate, {}, {}));
      } else if (sub == "scale") {
        add(Resource(name, "", r.namespaced, "autoscaling", "v1", "Scale", kGetUpdate, {}, {}));
      } else if (sub == "binding") {
        add(Resource(name, "", r.namespaced, "", "", "Binding", {"create"}, {}, {}));
      } else if (sub == "eviction") {
        add(Resource(name, "", r.namespaced, "policy", "v1", "Eviction", {"create"}, {}, {}));
      } else if (sub == "log") {
        add(Resource(name, "", r.namespaced, "", "", "Pod", {"get"}, {}, {}));
      } else if (sub == "token") {
        add(Resource(name, "", r.namespaced, "authentication.k8s.io", "v1", "TokenRequest",
                     {"create"}, {}, {}));
      } else if (sub == "finalize") {
        add(Resource(name, "", r.namespaced, "", "", r.kind, {"update"}, {}, {}));
      }
    }
  }
  if (!found) return "";
  std::string gv = group.empty() ? std::string(version) : std::string(group) + "/" + std::string(version);
  return R"({"kind":"APIResourceList","apiVersion":"v1","groupVersion":)" + Quoted(gv) +
         R"(,"resources":[)" + items + "]}";
}

}  // namespace kubepp::apiserver
