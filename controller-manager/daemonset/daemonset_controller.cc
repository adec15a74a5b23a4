#include "controller-manager/daemonset/daemonset_controller.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <set>

#include "controller-manager/framework/canonical.h"
#include "controller-manager/framework/history.h"
#include "controller-manager/framework/owner.h"
#include "controller-manager/framework/parallel.h"
#include "controller-manager/framework/pods.h"

namespace kubepp::controller {

using informer::KeyOf;
using informer::SplitKey;

namespace {

constexpr const char* kHashLabel = "controller-revision-hash";

// Upstream's AddOrUpdateDaemonPodTolerations: daemons keep running through node trouble.
const char* kDefaultTolerations = R"([
  {"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute"},
  {"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute"},
  {"key":"node.kubernetes.io/disk-pressure","operator":"Exists","effect":"NoSchedule"},
  {"key":"node.kubernetes.io/memory-pressure","operator":"Exists","effect":"NoSchedule"},
  {"key":"node.kubernetes.io/pid-pressure","operator":"Exists","effect":"NoSchedule"},
  {"key":"node.kubernetes.io/unschedulable","operator":"Exists","effect":"NoSchedule"}])";

bool MatchExpression(const api::Value& expr, const std::string* value) {
  std::string op = api::GetString(expr, "operator");
  std::vector<std::string> values;
  if (const api::Value* v = api::FindMember(expr, "values"); v && v->IsArray()) {
    for (const auto& x : v->GetArray()) values.emplace_back(api::View(x));
  }
  bool in = value != nullptr && std::find(values.begin(), values.end(), *value) != values.end();
  if (op == "In") return in;
  if (op == "NotIn") return !in;
  if (op == "Exists") return value != nullptr;
  if (op == "DoesNotExist") return value == nullptr;
  if ((op == "Gt" || op == "Lt") && value != nullptr && values.size() == 1) {
    char* end = nullptr;
    long long have = std::strtoll(value->c_str(), &end, 10);
    if (*end != '\0') return false;
    long long want = std::strtoll(values[0].c_str(), &end, 10);
    return op == "Gt" ? have > want : have < want;
  }
  return false;
}

// requiredDuringSchedulingIgnoredDuringExecution: any term matches, all of a term's
// expressions (labels) and fields (metadata.name) must.
bool MatchesRequiredAffinity(const api::Value& tmpl, const api::Value& node) {
  const api::Value* terms = api::Find(
      tmpl, "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms");
  if (terms == nullptr || !terms->IsArray() || terms->Empty()) return true;
  auto labels = api::GetStringMap(node, "metadata.labels");
  std::string name = api::GetString(node, "metadata.name");
  for (const auto& term : terms->GetArray()) {
    bool ok = true;
    if (const api::Value* exprs = api::FindMember(term, "matchExpressions"); exprs && exprs->IsArray()) {
      for (const auto& e : exprs->GetArray()) {
        auto it = labels.find(api::GetString(e, "key"));
        ok = ok && MatchExpression(e, it == labels.end() ? nullptr : &it->second);
      }
    }
    if (const api::Value* fields = api::FindMember(term, "matchFields"); fields && fields->IsArray()) {
      for (const auto& f : fields->GetArray()) {
        bool known = api::GetString(f, "key") == "metadata.name";
        ok = ok && known && MatchExpression(f, &name);
      }
    }
    if (ok) return true;
  }
  return false;
}

}  // namespace

bool DaemonShouldRun(const api::Value& tmpl, const api::Value& node) {
  auto labels = api::GetStringMap(node, "metadata.labels");
  for (const auto& [k, v] : api::GetStringMap(tmpl, "spec.nodeSelector")) {
    auto it = labels.find(k);
    if (it == labels.end() || it->second != v) return false;
  }
  if (!MatchesRequiredAffinity(tmpl, node)) return false;
  auto tolerations = std::move(api::ParseJson(kDefaultTolerations)).value();
  if (const api::Value* own = api::Find(tmpl, "spec.tolerations"); own && own->IsArray()) {
    for (const auto& t : own->GetArray()) tolerations.PushBack(api::Value(t, tolerations.GetAllocator()), tolerations.GetAllocator());
  }
  return ToleratesAll(&tolerations, api::Find(node, "spec.taints"));
}

DaemonSetController::DaemonSetController(client::RestClient* client, SharedInformers* informers,
                                         const Clock* clock, EventRecorder* events)
    : PodOwnerController("daemonset", "DaemonSet", informers->For(client::kDaemonSets),
                         informers->For(client::kPods)),
      nodes_(informers->For(client::kNodes)),
      revisions_(informers->For(client::kControllerRevisions)),
      client_(client),
      clock_(clock),
      events_(events) {
  // Any node change may change where daemons belong.
  auto all = [this](const ObjectPtr&) {
    for (const auto& ds : owners_.List()) Enqueue(KeyOf(*ds));
  };
  nodes_.AddEventHandler({all,
                          [this](const ObjectPtr& old_node, const ObjectPtr& node) {
                            // Heartbeats change status only: skip those.
                            if (CanonicalJson(*api::Find(*old_node, "metadata")) ==
                                    CanonicalJson(*api::Find(*node, "metadata")) &&
                                api::Find(*old_node, "spec") && api::Find(*node, "spec") &&
                                CanonicalJson(*api::Find(*old_node, "spec")) ==
                                    CanonicalJson(*api::Find(*node, "spec"))) {
                              return;
                            }
                            for (const auto& ds : owners_.List()) Enqueue(KeyOf(*ds));
                          },
                          all});
}

Status DaemonSetController::Sync(const std::string& key) {
  ObjectPtr cached = owners_.Get(key);
  if (!cached) {
    expectations_.Delete(key);
    return Status::Ok();
  }
  const api::Value& ds = *cached;
  auto [ns, name] = SplitKey(key);
  auto selector = api::LabelSelector::FromJson(api::Find(ds, "spec.selector"));
  if (!selector.ok() || selector->Empty()) return Status::Ok();
  const api::Value* tmpl = api::Find(ds, "spec.template");
  if (tmpl == nullptr) return Status::Ok();
  // The template's ControllerRevision (what `kubectl rollout history|undo daemonset`
  // read); its hash label is the pods' controller-revision-hash.
  std::string hash = TemplateHash(*tmpl);
  std::vector<ObjectPtr> owned;
  RevisionState revs;
  if (!IsBeingDeleted(ds)) {
    owned = OwnedRevisions(revisions_.List(), ds);
    ASSIGN_OR_RETURN(revs, SyncRevisions(client_, ds, "apps/v1", "DaemonSet", *tmpl, owned, ""));
    hash = api::GetStringMap(*revs.update, "metadata.labels")[kHashLabel];
  }
  bool need_sync = expectations_.Satisfied(key) && !IsBeingDeleted(ds);
  std::vector<ObjectPtr> candidates;
  for (const auto& p : pods_.List()) {
    if (api::GetString(*p, "metadata.namespace") == ns && !IsBeingDeleted(*p)) candidates.push_back(p);
  }
  ASSIGN_OR_RETURN(std::vector<ObjectPtr> pods,
                   ClaimObjects(client_, client::kPods, ds, "apps/v1", "DaemonSet", *selector,
                                candidates, RecheckOwner(client_, client::kDaemonSets, ds)));
  std::map<std::string, std::vector<ObjectPtr>> by_node;
  for (const auto& p : pods) by_node[api::GetString(*p, "spec.nodeName")].push_back(p);

  int64_t min_ready = api::GetInt(ds, "spec.minReadySeconds");
  int64_t now = clock_->NowUnix();
  std::vector<std::string> create_on;
  std::vector<ObjectPtr> doomed;
  std::vector<ObjectPtr> old_pods;  // rolling-update candidates
  int64_t desired = 0, current = 0, misscheduled = 0, ready = 0, available = 0, updated = 0;
  int64_t unavailable_nodes = 0, surging = 0;
  std::set<std::string> node_names;
  for (const auto& node : nodes_.List()) {
    std::string node_name = api::GetString(*node, "metadata.name");
    node_names.insert(node_name);
    bool should_run = DaemonShouldRun(*tmpl, *node);
    auto it = by_node.find(node_name);
    std::vector<ObjectPtr> here = it == by_node.end() ? std::vector<ObjectPtr>{} : it->second;
    if (!should_run) {
      misscheduled += !here.empty();
      doomed.insert(doomed.end(), here.begin(), here.end());
      continue;
    }
    ++desired;
    // Failed pods are replaced; of several pods of the current template (and of several
    // older ones) the longest-lived stays.
    std::vector<ObjectPtr> fresh, stale;
    for (const auto& p : here) {
      if (api::GetString(*p, "status.phase") == "Failed") {
        doomed.push_back(p);
      } else {
        (api::GetStringMap(*p, "metadata.labels")[kHashLabel] == hash ? fresh : stale).push_back(p);
      }
    }
    for (auto* group : {&fresh, &stale}) {
      std::sort(group->begin(), group->end(), [](const ObjectPtr& a, const ObjectPtr& b) {
        return !DeletePodFirst(*a, *b);
      });
      if (group->size() > 1) doomed.insert(doomed.end(), group->begin() + 1, group->end());
    }
    ObjectPtr new_pod = fresh.empty() ? nullptr : fresh[0];
    ObjectPtr old_pod = stale.empty() ? nullptr : stale[0];
    if (!new_pod && !old_pod) {
      create_on.push_back(node_name);
      ++unavailable_nodes;
      continue;
    }
    ++current;
    bool new_available = new_pod && IsPodAvailable(*new_pod, min_ready, now);
    bool old_available = old_pod && IsPodAvailable(*old_pod, min_ready, now);
    ready += (new_pod && IsPodReady(*new_pod)) || (old_pod && IsPodReady(*old_pod));
    available += new_available || old_available;
    if (!new_available && !old_available) ++unavailable_nodes;
    updated += new_pod != nullptr;
    if (new_pod && old_pod) {
      // A surge in progress: the old pod goes once its successor is available.
      if (new_available) {
        doomed.push_back(old_pod);
      } else {
        ++surging;
      }
    } else if (old_pod) {
      old_pods.push_back(old_pod);
    }
  }
  // Pods bound to nodes that no longer exist.
  for (const auto& [node_name, here] : by_node) {
    if (!node_names.count(node_name)) doomed.insert(doomed.end(), here.begin(), here.end());
  }
  auto max_surge = ScaledIntOrPercent(api::Find(ds, "spec.updateStrategy.rollingUpdate.maxSurge"),
                                      desired, true, 0);
  bool rolling = api::GetString(ds, "spec.updateStrategy.type", "RollingUpdate") == "RollingUpdate";
  if (rolling && max_surge.ok() && *max_surge > 0) {
    // maxSurge (upstream: then maxUnavailable is 0): a new pod starts beside the old one
    // on up to maxSurge nodes at a time; an old pod that is unavailable anyway is
    // replaced at once, outside the budget.
    int64_t budget = *max_surge - surging;
    for (const auto& p : old_pods) {
      if (IsPodAvailable(*p, min_ready, now)) {
        if (budget <= 0) continue;
        --budget;
        create_on.push_back(api::GetString(*p, "spec.nodeName"));
      } else {
        doomed.push_back(p);
        create_on.push_back(api::GetString(*p, "spec.nodeName"));
      }
    }
  } else if (rolling) {
    auto max_unavailable = ScaledIntOrPercent(
        api::Find(ds, "spec.updateStrategy.rollingUpdate.maxUnavailable"), desired, true, 1);
    int64_t budget = (max_unavailable.ok() ? *max_unavailable : 1) - unavailable_nodes;
    // Old pods that are unavailable anyway go first: replacing them costs nothing.
    std::stable_partition(old_pods.begin(), old_pods.end(), [&](const ObjectPtr& p) {
      return !IsPodAvailable(*p, min_ready, now);
    });
    for (const auto& p : old_pods) {
      if (IsPodAvailable(*p, min_ready, now)) {
        if (budget <= 0) break;
        --budget;
      }
      doomed.push_back(p);
    }
  }

  Status manage;
  if (need_sync && (!create_on.empty() || !doomed.empty())) {
    std::vector<std::string> uids;
    for (const auto& p : doomed) uids.push_back(api::GetString(*p, "metadata.uid"));
    expectations_.Expect(key, static_cast<int>(create_on.size()), uids);
    std::mutex mu;
    ParallelFor(static_cast<int>(doomed.size()), 16, [&](int i) {
      client::DeleteOptions opts;
      opts.precondition_uid = uids[i];
      Status st = client_->Delete(client::kPods, ns, api::GetString(*doomed[i], "metadata.name"), opts);
      if (st.ok()) return;
      expectations_.DeletionObserved(key, uids[i]);
      std::lock_guard lock(mu);
      if (st.code() != Code::kNotFound && manage.ok()) manage = std::move(st);
    });
    if (!create_on.empty()) {
      api::Document scratch;
      api::Value cref = ControllerRefJson(ds, "apps/v1", "DaemonSet", scratch.GetAllocator());
      auto [created, error] = SlowStartBatch(static_cast<int>(create_on.size()), 16, [&](int i) {
        api::Document pod = PodFromTemplate(*tmpl, ns, name + "-", cref);
        auto& a = pod.GetAllocator();
        api::Value& labels = api::Ensure(pod, "metadata.labels", a);
        labels.RemoveMember(kHashLabel);
        labels.AddMember(api::Str(kHashLabel, a), api::Str(hash, a), a);
        api::SetString(pod, "spec.nodeName", create_on[i], a);
        auto affinity = api::ParseJson(
            R"({"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchFields":[{"key":"metadata.name","operator":"In","values":[)" +
            std::string("\"") + create_on[i] + "\"" + "]}]}]}}");
        api::SetValue(pod, "spec.affinity.nodeAffinity", api::Value(*affinity, a), a);
        api::Value& spec = api::Ensure(pod, "spec", a);
        if (!spec.HasMember("tolerations") || !spec["tolerations"].IsArray()) {
          spec.RemoveMember("tolerations");
          spec.AddMember("tolerations", api::Value(rapidjson::kArrayType), a);
        }
        auto defaults = api::ParseJson(kDefaultTolerations);
        for (const auto& t : defaults->GetArray()) spec["tolerations"].PushBack(api::Value(t, a), a);
        return client_->Create(client::kPods, ns, pod).status();
      });
      if (!error.ok()) {
        expectations_.LowerCreations(key, static_cast<int>(create_on.size()) - created);
        events_->Event(ds, "Warning", "FailedCreate", "Error creating: " + error.message());
        if (manage.ok()) manage = error;
      }
    }
  }

  api::Document next = api::Clone(ds);
  auto& a = next.GetAllocator();
  api::Value& status = api::Ensure(next, "status", a);
  api::SetInt(status, "desiredNumberScheduled", desired, a);
  api::SetInt(status, "currentNumberScheduled", current, a);
  api::SetInt(status, "numberMisscheduled", misscheduled, a);
  api::SetInt(status, "numberReady", ready, a);
  api::SetInt(status, "numberAvailable", available, a);
  api::SetInt(status, "numberUnavailable", desired - available, a);
  api::SetInt(status, "updatedNumberScheduled", updated, a);
  api::SetInt(status, "observedGeneration", api::GetInt(ds, "metadata.generation", 1), a);
  if (revs.collision_count > 0) api::SetInt(status, "collisionCount", revs.collision_count, a);
  const api::Value* old_status = api::Find(ds, "status");
  if (old_status == nullptr || CanonicalJson(*old_status) != CanonicalJson(status)) {
    RETURN_IF_ERROR(client_->UpdateStatus(client::kDaemonSets, "", next).status());
  }
  if (revs.update) {
    // cleanupHistory: revisions some pod still runs, and the template's, are kept.
    std::set<std::string> pod_hashes, live = {api::GetString(*revs.update, "metadata.name")};
    for (const auto& p : pods) pod_hashes.insert(api::GetStringMap(*p, "metadata.labels")[kHashLabel]);
    for (const auto& r : owned) {
      if (pod_hashes.count(api::GetStringMap(*r, "metadata.labels")[kHashLabel]))
        live.insert(api::GetString(*r, "metadata.name"));
    }
    RETURN_IF_ERROR(TruncateHistory(client_, owned, live,
                                    api::GetInt(ds, "spec.revisionHistoryLimit", 10)));
  }
  if (manage.ok() && min_ready > 0 && ready != available) {
    EnqueueAfter(key, std::chrono::seconds(min_ready));
  }
  return manage;
}

}  // namespace kubepp::controller
