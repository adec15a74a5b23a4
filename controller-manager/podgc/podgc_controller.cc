#include "controller-manager/podgc/podgc_controller.h"

#include <algorithm>
#include <set>

#include "common/log.h"
#include "common/util/time.h"
#include "controller-manager/framework/conditions.h"
#include "controller-manager/framework/pods.h"

namespace kubepp::controller {

namespace {

bool Terminated(const api::Value& pod) {
  std::string phase = api::GetString(pod, "status.phase");
  return phase == "Succeeded" || phase == "Failed";
}

bool NodeReady(const api::Value& node) {
  const api::Value* conds = api::Find(node, "status.conditions");
  if (conds == nullptr || !conds->IsArray()) return false;
  for (const auto& c : conds->GetArray()) {
    if (api::GetString(c, "type") == "Ready") return api::GetString(c, "status") == "True";
  }
  return false;
}

bool HasTaint(const api::Value& node, const std::string& key) {
  const api::Value* taints = api::Find(node, "spec.taints");
  if (taints == nullptr || !taints->IsArray()) return false;
  for (const auto& t : taints->GetArray()) {
    if (api::GetString(t, "key") == key) return true;
  }
  return false;
}

std::string Key(const api::Value& pod) {
  return api::GetString(pod, "metadata.namespace") + "/" + api::GetString(pod, "metadata.name");
}

}  // namespace

PodGcController::PodGcController(client::RestClient* client, SharedInformers* informers,
                                 const Clock* clock, PodGcOptions options)
    : QueueController("podgc"),
      client_(client),
      pods_(informers->For(client::kPods)),
      nodes_(informers->For(client::kNodes)),
      clock_(clock),
      options_(options) {}

Status PodGcController::ForceDelete(const api::Value& pod, bool mark_disruption) {
  std::string ns = api::GetString(pod, "metadata.namespace");
  std::string name = api::GetString(pod, "metadata.name");
  if (mark_disruption && !Terminated(pod)) {
    api::Document next = api::Clone(pod);
    auto& a = next.GetAllocator();
    api::Value& status = api::Ensure(next, "status", a);
    SetCondition(status,
                 {"DisruptionTarget", "True", "DeletionByPodGC",
                  "PodGC: node no longer exists"},
                 util::FormatRfc3339(clock_->NowUnix()), false, false, a);
    auto r = client_->UpdateStatus(client::kPods, ns, next);
    if (!r.ok() && r.status().code() != Code::kNotFound && r.status().code() != Code::kConflict) {
      return std::move(r).take_status();
    }
  }
  client::DeleteOptions opts;
  opts.grace_period_seconds = 0;
  opts.precondition_uid = api::GetString(pod, "metadata.uid");
  Status st = client_->Delete(client::kPods, ns, name, opts);
  if (st.ok()) LOG(INFO) << "podgc: deleted pod " << ns << "/" << name;
  return st.code() == Code::kNotFound || st.code() == Code::kConflict ? Status::Ok() : st;
}

Status PodGcController::Sync(const std::string& key) {
  if (key != kCheckKey) return Status::Ok();
  EnqueueAfter(kCheckKey, std::chrono::seconds(options_.check_period_seconds));
  int64_t now = clock_->NowUnix();
  Status first_error;
  auto note = [&](Status st) {
    if (!st.ok() && first_error.ok()) first_error = std::move(st);
  };
  std::map<std::string, ObjectPtr> nodes;
  for (auto& n : nodes_.List()) nodes[api::GetString(*n, "metadata.name")] = n;
  std::vector<ObjectPtr> pods = pods_.List();
  std::set<std::string> deleted;

  // Finished pods above the threshold, oldest first.
  if (options_.terminated_pod_gc_threshold > 0) {
    std::vector<ObjectPtr> finished;
    for (auto& p : pods) {
      if (Terminated(*p) && !api::Has(*p, "metadata.deletionTimestamp")) finished.push_back(p);
    }
    int64_t excess = static_cast<int64_t>(finished.size()) - options_.terminated_pod_gc_threshold;
    if (excess > 0) {
      std::stable_sort(finished.begin(), finished.end(), [](const ObjectPtr& a, const ObjectPtr& b) {
        return api::GetString(*a, "metadata.creationTimestamp") <
               api::GetString(*b, "metadata.creationTimestamp");
      });
      for (int64_t i = 0; i < excess; ++i) {
        note(ForceDelete(*finished[static_cast<size_t>(i)], false));
        deleted.insert(Key(*finished[static_cast<size_t>(i)]));
      }
    }
  }

  // Nodes missing now: quarantined until they have been missing long enough.
  std::set<std::string> gone;
  for (auto& p : pods) {
    std::string node = api::GetString(*p, "spec.nodeName");
    if (node.empty() || nodes.count(node)) continue;
    auto [it, inserted] = missing_since_.emplace(node, now);
    if (now - it->second >= options_.quarantine_seconds) gone.insert(node);
  }
  for (auto it = missing_since_.begin(); it != missing_since_.end();) {
    it = nodes.count(it->first) ? missing_since_.erase(it) : std::next(it);
  }
  bool requeue_soon = false;
  for (auto& p : pods) {
    if (deleted.count(Key(*p))) continue;
    std::string node = api::GetString(*p, "spec.nodeName");
    bool terminating = api::Has(*p, "metadata.deletionTimestamp");
    if (node.empty()) {
      if (terminating) note(ForceDelete(*p, false));
      continue;
    }
    auto n = nodes.find(node);
    if (n == nodes.end()) {
      if (gone.count(node)) {
        note(ForceDelete(*p, true));
      } else {
        requeue_soon = true;  // check again when the quarantine ends
      }
    } else if (terminating && !NodeReady(*n->second) && HasTaint(*n->second, kOutOfServiceTaint)) {
      note(ForceDelete(*p, true));
    }
  }
  if (requeue_soon) {
    EnqueueAfter(kCheckKey, std::chrono::seconds(std::min<int64_t>(options_.check_period_seconds,
                                                                   options_.quarantine_seconds)));
  }
  return first_error;
}

}  // namespace kubepp::controller
