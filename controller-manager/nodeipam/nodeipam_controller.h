// Node IPAM: gives every node a spec.podCIDR (and podCIDRs) from the cluster CIDR, one
// subnet per node, released when the node is deleted. Allocation starts only after the
// node cache is full and every existing node's CIDR is marked taken, so a restart never
// hands out a CIDR twice.
// Thread safety: Sync may run on several workers; the CIDR set has its own lock.
#pragma once

#include <mutex>
#include <string>

#include "common/client/rest_client.h"
#include "controller-manager/framework/controller.h"
#include "controller-manager/framework/events.h"
#include "controller-manager/framework/informers.h"
#include "controller-manager/nodeipam/cidr.h"

namespace kubepp::controller {

class NodeIpamController : public QueueController {
 public:
  NodeIpamController(client::RestClient* client, SharedInformers* informers, CidrSet cidrs,
                     EventRecorder* events);

  void Started() override;
  // key: a node name.
  Status Sync(const std::string& key) override;

 private:
  // Marks the node's CIDR(s) taken; true when it has one.
  bool OccupyFromNode(const api::Value& node);

  client::RestClient* client_;
  informer::Informer& nodes_;
  EventRecorder* events_;
  std::mutex mu_;  // guards cidrs_ and started_
  CidrSet cidrs_;
  bool started_ = false;
};

}  // namespace kubepp::controller
