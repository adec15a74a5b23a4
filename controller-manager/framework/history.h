// ControllerRevisions: the pod template history of StatefulSets (and DaemonSets), as
// upstream's pkg/controller/history and the StatefulSet controller's use of it. What
// `kubectl rollout history|undo statefulset/x` reads and writes.
//
// A revision's data is what kubectl's rollback applies as a strategic merge patch:
// {"spec":{"template":{<the pod template>,"$patch":"replace"}}}. Its name is
// <parent>-<hash> (the parent's name cut to 223 characters), the hash being
// TemplateHash of the template (salted with the parent's status.collisionCount); it is
// labelled with the template's labels plus controller-revision-hash=<hash>, and has a
// controller ownerReference to the parent.
//
// Thread safety: stateless functions.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/client/rest_client.h"
#include "common/informer/informer.h"
#include "common/status.h"

namespace kubepp::controller {

inline constexpr const char* kControllerRevisionHashLabel = "controller-revision-hash";

// The revision data for `tmpl` (a pod template).
api::Document RevisionData(const api::Value& tmpl);
// The pod template a revision holds (data.spec.template without "$patch"), or an empty
// object when it holds none.
api::Document RevisionTemplate(const api::Value& revision);

// upstream's ControllerRevisionName.
std::string RevisionName(const std::string& parent, const std::string& hash);

// A new ControllerRevision (not yet created) of `parent` (apiVersion/kind of the owner
// reference given) for `tmpl`, numbered `revision`.
api::Document NewRevision(const api::Value& parent, std::string_view api_version,
                          std::string_view kind, const api::Value& tmpl, int64_t revision,
                          int64_t collision_count);

// The revisions in `all` that `parent` controls (ownerReference uid), sorted by
// revision number, then name.
std::vector<informer::ObjectPtr> OwnedRevisions(const std::vector<informer::ObjectPtr>& all,
                                                const api::Value& parent);

struct RevisionState {
  informer::ObjectPtr current;  // the revision named by status.currentRevision, else update
  informer::ObjectPtr update;   // the revision of the parent's template
  int64_t collision_count = 0;
};

// upstream's getStatefulSetRevisions / DaemonSet constructHistory: the update revision is
// the newest revision whose template equals the parent's (its number raised above every
// other when it is not the newest already, as a rollback to it does), else a new one
// created numbered max+1 (a name collision with other data bumps collision_count and
// tries the next name). `owned` is OwnedRevisions' answer; `current_name` the parent's
// status.currentRevision.
Result<RevisionState> SyncRevisions(client::RestClient* client, const api::Value& parent,
                                    std::string_view api_version, std::string_view kind,
                                    const api::Value& tmpl,
                                    const std::vector<informer::ObjectPtr>& owned,
                                    const std::string& current_name);

// Deletes the oldest revisions of `owned` not named in `live` until at most `limit` of
// them remain (upstream's truncateHistory).
Status TruncateHistory(client::RestClient* client, const std::vector<informer::ObjectPtr>& owned,
                       const std::set<std::string>& live, int64_t limit);

}  // namespace kubepp::controller
