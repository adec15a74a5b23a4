// Typed access to Kubernetes resources: get, list, create, update, patch, delete and
// watch, by resource reference and namespace. RestClient is the seam between a
// component and the apiserver; HttpRestClient talks HTTP, FakeRestClient keeps objects
// in memory for tests.
//
// Errors: a non-2xx answer becomes the server's Status (code from the HTTP status and
// reason, message and details from the Status body); transport failures are
// Unavailable.
// Thread safety: implementations are safe to call from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/api/json.h"
#include "common/http/client.h"
#include "common/status.h"

namespace kubepp::client {

struct ResourceRef {
  std::string group;    // "" for the core group
  std::string version;  // "v1"
  std::string plural;   // "pods"
  bool namespaced = true;

  // "v1", "apps/v1".
  std::string ApiVersion() const;
  // "/api/v1/namespaces/<ns>/pods/<name>/<subresource>" (grouped: "/apis/<g>/<v>/...").
  // An empty `ns` (or a cluster-scoped resource) leaves out the namespace segment, an
  // empty `name` gives the collection.
  std::string Path(const std::string& ns, const std::string& name = "",
                   const std::string& subresource = "") const;
};

inline const ResourceRef kNamespaces{"", "v1", "namespaces", false};
inline const ResourceRef kNodes{"", "v1", "nodes", false};
inline const ResourceRef kPods{"", "v1", "pods", true};
inline const ResourceRef kServices{"", "v1", "services", true};
inline const ResourceRef kEndpoints{"", "v1", "endpoints", true};
inline const ResourceRef kConfigMaps{"", "v1", "configmaps", true};
inline const ResourceRef kSecrets{"", "v1", "secrets", true};
inline const ResourceRef kEvents{"", "v1", "events", true};
inline const ResourceRef kServiceAccounts{"", "v1", "serviceaccounts", true};
inline const ResourceRef kPersistentVolumes{"", "v1", "persistentvolumes", false};
inline const ResourceRef kPersistentVolumeClaims{"", "v1", "persistentvolumeclaims", true};
inline const ResourceRef kStorageClasses{"storage.k8s.io", "v1", "storageclasses", false};
inline const ResourceRef kControllerRevisions{"apps", "v1", "controllerrevisions", true};
inline const ResourceRef kDeployments{"apps", "v1", "deployments", true};
inline const ResourceRef kReplicaSets{"apps", "v1", "replicasets", true};
inline const ResourceRef kDaemonSets{"apps", "v1", "daemonsets", true};
inline const ResourceRef kStatefulSets{"apps", "v1", "statefulsets", true};
inline const ResourceRef kJobs{"batch", "v1", "jobs", true};
inline const ResourceRef kCronJobs{"batch", "v1", "cronjobs", true};
inline const ResourceRef kLeases{"coordination.k8s.io", "v1", "leases", true};
inline const ResourceRef kEndpointSlices{"discovery.k8s.io", "v1", "endpointslices", true};
inline const ResourceRef kIngresses{"networking.k8s.io", "v1", "ingresses", true};
inline const ResourceRef kIngressClasses{"networking.k8s.io", "v1", "ingressclasses", false};
inline const ResourceRef kRoles{"rbac.authorization.k8s.io", "v1", "roles", true};
inline const ResourceRef kRoleBindings{"rbac.authorization.k8s.io", "v1", "rolebindings", true};
inline const ResourceRef kClusterRoles{"rbac.authorization.k8s.io", "v1", "clusterroles", false};
inline const ResourceRef kClusterRoleBindings{"rbac.authorization.k8s.io", "v1", "clusterrolebindings", false};

struct ListOptions {
  std::string label_selector;
  std::string field_selector;
  int64_t limit = 0;  // 0: no paging
  std::string continue_token;
  std::string resource_version;
};

struct WatchOptions {
  std::string resource_version;  // "" or "0": synthetic ADDED events for current state first
  bool allow_bookmarks = false;
  int timeout_seconds = 0;  // server ends the stream cleanly after this; 0: server default
  std::string label_selector;
  std::string field_selector;
};

struct DeleteOptions {
  std::string propagation_policy;  // "", "Orphan", "Background", "Foreground"
  std::optional<int64_t> grace_period_seconds;
  std::string precondition_rv;   // delete only at this resourceVersion
  std::string precondition_uid;  // delete only this incarnation
};

enum class PatchType { kMerge, kJson, kStrategic, kApply };
std::string_view ContentTypeOf(PatchType type);

// Called for each watch event: type "ADDED", "MODIFIED", "DELETED", "BOOKMARK" or "ERROR"
// (object is then a Status; code 410 means the resourceVersion is too old: relist).
// Return false to end the watch.
using WatchHandler = std::function<bool(std::string_view type, const api::Value& object)>;

class RestClient {
 public:
  virtual ~RestClient() = default;

  // `ns` is ignored for cluster-scoped resources. Create/Update/UpdateStatus take the
  // namespace from the object's metadata.namespace when `ns` is empty, and the name
  // from metadata.name.
  virtual Result<api::Document> Get(const ResourceRef& ref, const std::string& ns,
                                    const std::string& name) = 0;
  // The list object: {"metadata":{"resourceVersion","continue"},"items":[...]}. An empty
  // `ns` lists every namespace.
  virtual Result<api::Document> List(const ResourceRef& ref, const std::string& ns,
                                     const ListOptions& options = {}) = 0;
  virtual Result<api::Document> Create(const ResourceRef& ref, const std::string& ns,
                                       const api::Value& object) = 0;
  // PUT; a stale metadata.resourceVersion is Conflict.
  virtual Result<api::Document> Update(const ResourceRef& ref, const std::string& ns,
                                       const api::Value& object) = 0;
  // PUT on the /status subresource.
  virtual Result<api::Document> UpdateStatus(const ResourceRef& ref, const std::string& ns,
                                             const api::Value& object) = 0;
  virtual Result<api::Document> Patch(const ResourceRef& ref, const std::string& ns,
                                      const std::string& name, PatchType type,
                                      std::string_view patch,
                                      const std::string& subresource = "") = 0;
  virtual Status Delete(const ResourceRef& ref, const std::string& ns, const std::string& name,
                        const DeleteOptions& options = {}) = 0;
  // POST to a subresource of an object: pods/binding, pods/eviction.
  virtual Result<api::Document> CreateSubresource(const ResourceRef& ref, const std::string& ns,
                                                  const std::string& name,
                                                  const std::string& subresource,
                                                  const api::Value& body) = 0;
  // Blocks, calling `on_event` per event, until the server ends the stream (OK), the
  // handler returns false (OK), `*stop` turns true (OK, within ~200 ms; may be null) or
  // an error (non-2xx Status, Unavailable, Internal for a malformed event).
  virtual Status Watch(const ResourceRef& ref, const std::string& ns, const WatchOptions& options,
                       const WatchHandler& on_event, const std::atomic<bool>* stop) = 0;
};

class HttpRestClient : public RestClient {
 public:
  explicit HttpRestClient(std::shared_ptr<http::Client> http) : http_(std::move(http)) {}
  static Result<std::unique_ptr<HttpRestClient>> Create(const http::ClientOptions& options);

  // For requests outside the typed API (pods/log, /healthz, discovery).
  http::Client& http() { return *http_; }

  Result<api::Document> Get(const ResourceRef& ref, const std::string& ns,
                            const std::string& name) override;
  Result<api::Document> List(const ResourceRef& ref, const std::string& ns,
                             const ListOptions& options = {}) override;
  Result<api::Document> Create(const ResourceRef& ref, const std::string& ns,
                               const api::Value& object) override;
  Result<api::Document> Update(const ResourceRef& ref, const std::string& ns,
                               const api::Value& object) override;
  Result<api::Document> UpdateStatus(const ResourceRef& ref, const std::string& ns,
                                     const api::Value& object) override;
  Result<api::Document> Patch(const ResourceRef& ref, const std::string& ns,
                              const std::string& name, PatchType type, std::string_view patch,
                              const std::string& subresource = "") override;
  Status Delete(const ResourceRef& ref, const std::string& ns, const std::string& name,
                const DeleteOptions& options = {}) override;
  Result<api::Document> CreateSubresource(const ResourceRef& ref, const std::string& ns,
                                          const std::string& name, const std::string& subresource,
                                          const api::Value& body) override;
  Status Watch(const ResourceRef& ref, const std::string& ns, const WatchOptions& options,
               const WatchHandler& on_event, const std::atomic<bool>* stop) override;

 private:
  Result<api::Document> Call(const std::string& method, const std::string& target,
                             const std::string& body = "",
                             const std::string& content_type = "application/json");
  std::shared_ptr<http::Client> http_;
};

// An in-memory apiserver stand-in for tests of informers, controllers and leader
// election. Objects get resourceVersions from one counter, uid and creationTimestamp;
// updates with a stale resourceVersion are Conflict; every change is an event that open
// watches see. Simplifications: deletes are immediate (no finalizers or grace),
// strategic merge patches are applied as merge patches, JSON and apply patches are
// unsupported (BadRequest), subresource patches change the whole object, field
// selectors compare any string field by dotted path. Subresources: pods/binding sets
// spec.nodeName, pods/eviction deletes.
class FakeRestClient : public RestClient {
 public:
  Result<api::Document> Get(const ResourceRef& ref, const std::string& ns,
                            const std::string& name) override;
  Result<api::Document> List(const ResourceRef& ref, const std::string& ns,
                             const ListOptions& options = {}) override;
  Result<api::Document> Create(const ResourceRef& ref, const std::string& ns,
                               const api::Value& object) override;
  Result<api::Document> Update(const ResourceRef& ref, const std::string& ns,
                               const api::Value& object) override;
  Result<api::Document> UpdateStatus(const ResourceRef& ref, const std::string& ns,
                                     const api::Value& object) override;
  Result<api::Document> Patch(const ResourceRef& ref, const std::string& ns,
                              const std::string& name, PatchType type, std::string_view patch,
                              const std::string& subresource = "") override;
  Status Delete(const ResourceRef& ref, const std::string& ns, const std::string& name,
                const DeleteOptions& options = {}) override;
  Result<api::Document> CreateSubresource(const ResourceRef& ref, const std::string& ns,
                                          const std::string& name, const std::string& subresource,
                                          const api::Value& body) override;
  Status Watch(const ResourceRef& ref, const std::string& ns, const WatchOptions& options,
               const WatchHandler& on_event, const std::atomic<bool>* stop) override;

  // The next `count` calls of `verb` ("get", "list", "create", "update", "patch",
  // "delete", "watch", or "*" for any) fail with `status` before doing anything.
  // A negative count fails them until ClearFailures() (an apiserver that is down).
  void FailNext(const std::string& verb, Status status, int count = 1);
  void ClearFailures();
  // Ends every open watch cleanly, as a server-side timeout would.
  void CloseWatches();
  // Drops the event history: a watch from an older resourceVersion then gets an ERROR
  // event carrying a 410 Gone Status (and ends), as after etcd compaction.
  void Compact();
  // One line per call: "<verb> <plural>" plus " rv=<resourceVersion>" for list and watch.
  std::vector<std::string> Calls() const;
  int64_t CurrentResourceVersion() const;
  int OpenWatches() const;

 private:
  struct Event {
    std::string resource;  // group/plural
    std::string type;
    std::shared_ptr<const api::Document> object;
    int64_t rv;
  };
  using Objects = std::map<std::string, std::shared_ptr<const api::Document>>;  // by ns/name

  // Caller holds mu_.
  Status TakeFailureLocked(const std::string& verb);
  void RecordLocked(const std::string& verb, const ResourceRef& ref, const std::string& rv = "");
  std::shared_ptr<const api::Document> StoreLocked(const ResourceRef& ref, const std::string& key,
                                                   api::Document object, const std::string& type);
  Result<api::Document> ReplaceLocked(const ResourceRef& ref, const std::string& ns,
                                      const api::Value& object, bool status_only);
  Status DeleteLocked(const ResourceRef& ref, const std::string& key, const DeleteOptions& options);

  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::map<std::string, Objects> objects_;  // by group/plural
  std::vector<Event> events_;
  int64_t rv_ = 0;
  int64_t compacted_rv_ = 0;
  uint64_t watch_generation_ = 0;  // bumped by CloseWatches
  int open_watches_ = 0;
  struct Failure {
    std::string verb;
    Status status;
    int remaining;  // < 0: until ClearFailures
  };
  std::vector<Failure> failures_;
  std::vector<std::string> calls_;
};

}  // namespace kubepp::client
