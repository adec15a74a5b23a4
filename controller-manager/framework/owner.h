// ownerReferences: who controls an object, and claiming objects for a controller as
// upstream's ControllerRefManager does (adopt matching orphans, release owned objects
// whose labels stopped matching, ignore objects another controller owns).
// Thread safety: stateless functions.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/api/json.h"
#include "common/api/selector.h"
#include "common/client/rest_client.h"
#include "common/informer/informer.h"
#include "common/status.h"

namespace kubepp::controller {

using informer::ObjectPtr;

struct OwnerRef {
  std::string api_version;
  std::string kind;
  std::string name;
  std::string uid;
  bool controller = false;
  bool block_owner_deletion = false;
};

std::vector<OwnerRef> OwnerRefsOf(const api::Value& object);
// The ownerReference with controller=true, if any.
std::optional<OwnerRef> ControllerOf(const api::Value& object);
// A controller ownerReference (controller and blockOwnerDeletion true) to `owner`.
api::Value ControllerRefJson(const api::Value& owner, std::string_view api_version,
                             std::string_view kind, api::Allocator& a);
bool IsBeingDeleted(const api::Value& object);

// Which candidates `owner` controls after claiming: objects already controlled by it
// whose labels still match `selector` (those that no longer match are released, unless
// the owner is being deleted), plus matching orphans, which are adopted once
// `can_adopt` agrees (it is asked at most once, before the first adoption; upstream
// re-reads the owner there so a deleted owner adopts nothing). Objects controlled by
// another owner and objects being deleted are never adopted. Adoption and release are
// merge patches guarded by the object's resourceVersion, so a concurrent change fails
// them with Conflict (the caller retries from fresh state) rather than losing it.
Result<std::vector<ObjectPtr>> ClaimObjects(client::RestClient* client,
                                            const client::ResourceRef& ref,
                                            const api::Value& owner,
                                            std::string_view owner_api_version,
                                            std::string_view owner_kind,
                                            const api::LabelSelector& selector,
                                            const std::vector<ObjectPtr>& candidates,
                                            const std::function<Status()>& can_adopt);

// A can_adopt for ClaimObjects: reads the owner from the server and refuses when it is
// gone, replaced (another uid) or being deleted.
std::function<Status()> RecheckOwner(client::RestClient* client, const client::ResourceRef& ref,
                                     const api::Value& owner);

// The objects of `objects` in namespace `ns`.
std::vector<ObjectPtr> InNamespace(const std::vector<ObjectPtr>& objects, const std::string& ns);

}  // namespace kubepp::controller
