// The API resources the controller-manager knows by kind, for controllers that act on
// "everything" (the namespace controller empties a namespace; the garbage collector
// resolves ownerReferences by apiVersion and kind).
// Thread safety: immutable tables.
#pragma once

#include <string_view>
#include <vector>

#include "common/client/rest_client.h"

namespace kubepp::controller {

struct KnownResource {
  client::ResourceRef ref;
  const char* kind;
};

// Every resource the apiserver serves, workload controllers first, then pods and their
// claims (the order in which the namespace controller deletes, so that controllers stop
// making pods before the pods go), then cluster-scoped ones.
const std::vector<KnownResource>& KnownResources();
// The resource of `api_version` ("apps/v1") and `kind` ("ReplicaSet"), or null.
const KnownResource* ResourceForKind(std::string_view api_version, std::string_view kind);

}  // namespace kubepp::controller
