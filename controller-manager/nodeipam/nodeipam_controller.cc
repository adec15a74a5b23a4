#include "controller-manager/nodeipam/nodeipam_controller.h"

#include "common/log.h"

namespace kubepp::controller {

NodeIpamController::NodeIpamController(client::RestClient* client, SharedInformers* informers,
                                       CidrSet cidrs, EventRecorder* events)
    : QueueController("nodeipam"),
      client_(client),
      nodes_(informers->For(client::kNodes)),
      events_(events),
      cidrs_(std::move(cidrs)) {
  auto on_node = [this](const ObjectPtr& node) {
    if (!OccupyFromNode(*node)) Enqueue(api::GetString(*node, "metadata.name"));
  };
  nodes_.AddEventHandler({
      on_node,
      [on_node](const ObjectPtr&, const ObjectPtr& node) { on_node(node); },
      [this](const ObjectPtr& node) {
        std::string cidr = api::GetString(*node, "spec.podCIDR");
        if (cidr.empty()) return;
        std::lock_guard lock(mu_);
        cidrs_.Release(cidr);
        LOG(INFO) << "nodeipam: released " << cidr << " of deleted node "
                  << api::GetString(*node, "metadata.name");
      },
  });
}

bool NodeIpamController::OccupyFromNode(const api::Value& node) {
  std::string cidr = api::GetString(node, "spec.podCIDR");
  if (cidr.empty()) return false;
  std::lock_guard lock(mu_);
  cidrs_.Occupy(cidr);
  return true;
}

void NodeIpamController::Started() {
  // Everything the cache holds is taken before the first allocation.
  for (const auto& node : nodes_.List()) OccupyFromNode(*node);
  std::lock_guard lock(mu_);
  started_ = true;
}

Status NodeIpamController::Sync(const std::string& key) {
  ObjectPtr node = nodes_.Get(key);
  if (!node || OccupyFromNode(*node)) return Status::Ok();
  std::optional<std::string> cidr;
  {
    std::lock_guard lock(mu_);
    if (!started_) return Unavailable("node cache not synced yet");
    cidr = cidrs_.Allocate();
  }
  if (!cidr) {
    events_->Event(*node, "Warning", "CIDRNotAvailable",
                   "Node " + key + " status is now: CIDRNotAvailable");
    return Unavailable("no pod CIDR left for node " + key);
  }
  // Guarded by the resourceVersion: a node that got a CIDR meanwhile is not overwritten.
  std::string patch = R"({"metadata":{"resourceVersion":")" +
                      api::GetString(*node, "metadata.resourceVersion") +
                      R"("},"spec":{"podCIDR":")" + *cidr + R"(","podCIDRs":[")" + *cidr + R"("]}})";
  auto r = client_->Patch(client::kNodes, "", key, client::PatchType::kMerge, patch);
  if (!r.ok()) {
    std::lock_guard lock(mu_);
    cidrs_.Release(*cidr);
    return r.status().code() == Code::kNotFound ? Status::Ok() : std::move(r).take_status();
  }
  LOG(INFO) << "nodeipam: node " << key << " gets pod CIDR " << *cidr;
  events_->Event(*node, "Normal", "CIDRAssignmentSucceeded", "Assigned pod CIDR " + *cidr);
  return Status::Ok();
}

}  // namespace kubepp::controller
