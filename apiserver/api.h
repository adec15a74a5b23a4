// Internal to the apiserver: the request handlers behind ApiServer. Split across
// api.cc (routing, discovery, reads, watch) and api_write.cc (create, update, patch,
// delete, subresources).
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "apiserver/allocator.h"
#include "apiserver/apiserver.h"
#include "apiserver/authn.h"
#include "apiserver/node_authorizer.h"
#include "apiserver/node_restriction.h"
#include "apiserver/serviceaccount_token.h"
#include "apiserver/rbac.h"
#include "apiserver/request_info.h"
#include "apiserver/storage/storage.h"
#include "common/api/json.h"
#include "common/http/client.h"
#include "common/http/server.h"

namespace kubepp::apiserver {

struct WatchStream;

class Api {
 public:
  Api(ApiServerOptions options, std::unique_ptr<Storage> storage, IpAllocator ips,
      PortAllocator ports);
  ~Api();

  // Starts the authorizer (its RBAC cache follows the stored roles and bindings, the
  // Node authorizer's graph the pods) and creates the default RBAC policy objects that
  // are missing (bootstrap_policy.h). Call once, before serving.
  Status BootstrapPolicy();
  // The authorizer of the secure port (and of the authorization reviews); set by
  // BootstrapPolicy.
  std::shared_ptr<const Authorizer> authorizer() const { return authorizer_; }
  // Creates the namespaces and the `kubernetes` Service a new cluster starts with, and
  // rebuilds the allocators from the stored Services.
  Status Bootstrap(int served_port);
  // Turns service account tokens on: the serviceaccounts/token subresource, the
  // ServiceAccount admission's token volume, TokenReview/SelfSubjectReview (answered by
  // `authenticator`, the secure port's) and the OIDC discovery documents. Call before
  // serving; both must be non-null.
  void EnableServiceAccountTokens(std::shared_ptr<const ServiceAccountTokens> tokens,
                                  std::shared_ptr<const Authenticator> authenticator) {
    tokens_ = std::move(tokens);
    authenticator_ = std::move(authenticator);
  }
  // How pods/log reaches kubelets (pod_log.cc): every field but `server`, which is set per
  // call. Call before serving.
  void SetKubeletClient(http::ClientOptions options) { kubelet_client_ = std::move(options); }
  // The server's entry point.
  void Handle(http::Request req, std::shared_ptr<http::ResponseWriter> w);

  using Writer = std::shared_ptr<http::ResponseWriter>;
  using Done = std::function<void(Result<ObjectPtr>)>;

 private:
  // --- reads (api.cc) ---
  void HandleResource(const http::Request& req, const RequestInfo& info, const Writer& w);
  void Get(const http::Request& req, const RequestInfo& info, const Writer& w);
  void List(const http::Request& req, const RequestInfo& info, const Writer& w);
  void Watch(const http::Request& req, const RequestInfo& info, const Writer& w);
  void WatchTicker();

  // --- writes (api_write.cc) ---
  // `managed_fields`: the new object's metadata.managedFields (a create by server-side
  // apply); otherwise it has none.
  void Create(const http::Request& req, const RequestInfo& info, const Writer& w,
              const api::Value* managed_fields = nullptr);
  void Update(const http::Request& req, const RequestInfo& info, const Writer& w);
  void Patch(const http::Request& req, const RequestInfo& info, const Writer& w);
  void Delete(const http::Request& req, const RequestInfo& info, const Writer& w);
  void DeleteCollection(const http::Request& req, const RequestInfo& info, const Writer& w);
  void Binding(const http::Request& req, const RequestInfo& info, const Writer& w);
  void Eviction(const http::Request& req, const RequestInfo& info, const Writer& w);
  void GetScale(const http::Request& req, const RequestInfo& info, const Writer& w);
  void Log(const http::Request& req, const RequestInfo& info, const Writer& w);

  // --- authorization reviews (api_authz.cc) ---
  // POST of a SelfSubjectAccessReview, SubjectAccessReview, LocalSubjectAccessReview or
  // SelfSubjectRulesReview: evaluated with the authorizer, answered 201, never stored.
  void Review(const http::Request& req, const RequestInfo& info, const Writer& w);

  // --- service account tokens (api_token.cc) ---
  // POST serviceaccounts/<name>/token: a TokenRequest answered with a signed token.
  void TokenRequest(const http::Request& req, const RequestInfo& info, const Writer& w);
  // POST of a TokenReview or SelfSubjectReview (authentication.k8s.io/v1), never stored.
  void AuthenticationReview(const http::Request& req, const RequestInfo& info, const Writer& w);
  // The ServiceAccount admission plugin on a new pod (serviceaccount_token.h).
  void AdmitServiceAccount(api::Document& pod, const std::string& ns);

  // The NodeRestriction admission of a write by a kubelet (node_restriction.h): null
  // for other users (and when the plugin is disabled), else the request's attributes
  // for the caller to complete with the objects.
  std::shared_ptr<const AdmissionAttributes> NodeAdmission(const http::Request& req,
                                                           const RequestInfo& info,
                                                           AdmissionOperation op) const;
  Status AdmitNode(const AdmissionAttributes& a) const;
  // RBAC's escalation prevention (upstream's): a user outside system:masters may write a
  // Role/ClusterRole only with rules it holds itself in that namespace (or with the
  // `escalate` verb on it), and a RoleBinding/ClusterRoleBinding only to a role whose
  // rules it holds (or with the `bind` verb on that role). OK for other resources.
  Status AdmitRbacEscalation(const std::string& user, const std::vector<std::string>& groups,
                             const ResourceInfo& r, const std::string& ns,
                             const api::Value& object) const;
  // AdmitNode of an update from `old_obj` to `new_obj`; OK when `na` is null.
  Status AdmitUpdate(const std::shared_ptr<const AdmissionAttributes>& na,
                     const api::Value& old_obj, const api::Value& new_obj) const;

  // Computes the new version of an existing object from the current one.
  using Mutator = std::function<Result<api::Document>(const StoredObject& cur,
                                                      api::Document cur_doc)>;
  // Reads the current object, applies `mutate` and the update pipeline, writes with the
  // current revision as precondition, and retries when another writer raced us.
  void GuaranteedUpdate(const RequestInfo& info, const std::string& ns, const std::string& name,
                        bool dry_run, Mutator mutate, Done done, int attempts = 8);
  // Metadata, status and generation rules of an update; defaulting and validation.
  Status PrepareUpdate(const ResourceInfo& r, const std::string& subresource,
                       const api::Value& old_doc, api::Document& doc);
  // Deletes now, or marks for deletion (finalizers, graceful pod deletion).
  void DeleteObject(const RequestInfo& info, const std::string& ns, const std::string& name,
                    const api::Value* options, bool dry_run, Done done);
  // The object with spec.replicas from `scale` (an autoscaling/v1 Scale), through the
  // update pipeline.
  Result<api::Document> Rescale(const ResourceInfo& r, const StoredObject& cur,
                                api::Document doc, const api::Value& scale);
  // Answers a scale subresource write with the resulting Scale.
  Done RespondScale(const http::Request& req, const Writer& w, const ResourceInfo& r);
  Status AllocateServiceAddresses(api::Document& svc, const api::Value* old_svc);
  void ReleaseServiceAddresses(const api::Value& svc, const api::Value* keep);

  // --- helpers ---
  // `warnings` become `Warning: 299 - "<text>"` headers (kubectl prints them).
  void SendObject(const http::Request& req, const Writer& w, int code, const ObjectPtr& obj,
                  const std::vector<std::string>& warnings = {});
  void SendJson(const http::Request& req, const Writer& w, int code, std::string json,
                const std::vector<std::string>& warnings = {});
  static void SendStatus(const Writer& w, const Status& st);
  // Adapts a write completion into a response.
  Done Respond(const http::Request& req, const Writer& w, int code,
               std::vector<std::string> warnings = {});
  // Upstream's Priority admission: spec.priority (and preemptionPolicy) from the pod's
  // PriorityClass, or from the global default class. Forbidden for an unknown class.
  Status ResolvePriority(api::Document& pod);
  // The DefaultStorageClass admission plugin: a PersistentVolumeClaim created without
  // spec.storageClassName (absent, not "") gets the default StorageClass's name (the
  // newest class annotated storageclass.kubernetes.io/is-default-class=true).
  void AdmitDefaultStorageClass(api::Document& pvc);
  Status CheckNamespace(const RequestInfo& info, const std::string& ns, const std::string& name,
                        bool creating);

  ApiServerOptions options_;
  std::unique_ptr<Storage> storage_;
  // After storage_: its watches end before the storage does.
  RbacCache rbac_;
  NodeGraph node_graph_;
  std::unique_ptr<const NodeAuthorizer> node_authorizer_;
  bool node_restriction_ = true;
  std::shared_ptr<const Authorizer> authorizer_;
  std::shared_ptr<const ServiceAccountTokens> tokens_;      // null: no service account tokens
  std::shared_ptr<const Authenticator> authenticator_;      // set with tokens_
  IpAllocator ips_;
  PortAllocator ports_;
  std::string server_address_;
  http::ClientOptions kubelet_client_;

  std::mutex watches_mu_;
  std::list<std::shared_ptr<WatchStream>> watches_;
  std::atomic<bool> stopping_{false};
  std::condition_variable ticker_cv_;
  std::thread ticker_;
};

// Request-body decoding shared by the write handlers: JSON, or YAML by Content-Type.
Result<api::Document> DecodeBody(const http::Request& req);
bool WantsTable(const http::Request& req);
bool IsDryRun(const http::Request& req);
// A boolean query parameter's value: "true", "True" or "1".
bool IsTrue(const std::string& v);

}  // namespace kubepp::apiserver
