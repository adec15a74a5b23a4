#include "apiserver/storage/storage.h"

namespace kubepp::apiserver {
namespace {

struct SelectableField {
  const char* resource;
  const char* field;  // the name used in field selectors
  const char* path;   // where its value lives in the object
};

// The fields each resource supports in field selectors beyond metadata.name and
// metadata.namespace (as upstream's per-type field label conversion functions).
constexpr SelectableField kSelectable[] = {
    {"pods", "spec.nodeName", "spec.nodeName"},
    {"pods", "spec.restartPolicy", "spec.restartPolicy"},
    {"pods", "spec.schedulerName", "spec.schedulerName"},
    {"pods", "spec.serviceAccountName", "spec.serviceAccountName"},
    {"pods", "status.phase", "status.phase"},
    {"pods", "status.podIP", "status.podIP"},
    {"pods", "status.nominatedNodeName", "status.nominatedNodeName"},
    {"events", "involvedObject.kind", "involvedObject.kind"},
    {"events", "involvedObject.namespace", "involvedObject.namespace"},
    {"events", "involvedObject.name", "involvedObject.name"},
    {"events", "involvedObject.uid", "involvedObject.uid"},
    {"events", "involvedObject.apiVersion", "involvedObject.apiVersion"},
    {"events", "involvedObject.resourceVersion", "involvedObject.resourceVersion"},
    {"events", "involvedObject.fieldPath", "involvedObject.fieldPath"},
    {"events", "reason", "reason"},
    {"events", "reportingComponent", "reportingComponent"},
    {"events", "type", "type"},
    {"events", "source", "source.component"},
    {"secrets", "type", "type"},
    {"nodes", "spec.unschedulable", "spec.unschedulable"},
    {"namespaces", "status.phase", "status.phase"},
};

}  // namespace

void ExtractSelectable(const std::string& resource, const api::Value& obj,
                       std::map<std::string, std::string>* labels,
                       std::vector<std::pair<std::string, std::string>>* fields) {
  *labels = api::GetStringMap(obj, "metadata.labels");
  for (const auto& f : kSelectable) {
    if (resource != f.resource) continue;
    const api::Value* v = api::Find(obj, f.path);
    if (v == nullptr) continue;
    if (v->IsString()) {
      fields->emplace_back(f.field, std::string(api::View(*v)));
    } else if (v->IsBool()) {
      fields->emplace_back(f.field, v->GetBool() ? "true" : "false");
    }
  }
}

bool IsSelectableField(const std::string& resource, std::string_view field) {
  if (field == "metadata.name" || field == "metadata.namespace") return true;
  for (const auto& f : kSelectable) {
    if (resource == f.resource && field == f.field) return true;
  }
  return false;
}

}  // namespace kubepp::apiserver
