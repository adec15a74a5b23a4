// The Ingress controller of one proxy: watches Ingresses, IngressClasses and Secrets
// (Services and EndpointSlices come from the proxy's shared stores), rebuilds the
// routing Snapshot on every change (batched, at most one rebuild per
// min_sync_period), swaps it into the server, and writes this node's address into
// status.loadBalancer.ingress of every Ingress it serves (only when it is missing there,
// so proxies on several nodes add theirs without fighting). A rule it cannot serve is
// logged and recorded as a Warning Event on the Ingress, once per distinct problem.
//
// Thread safety: Start/Stop from one thread; Current() from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "common/client/event_recorder.h"
#include "common/client/rest_client.h"
#include "common/informer/informer.h"
#include "proxy/ingress/server.h"
#include "proxy/ingress/snapshot.h"

namespace kubepp::proxy::ingress {

struct ControllerOptions {
  std::string ingress_class = "kubepp";
  std::string node_ip;  // written to status.loadBalancer.ingress
  std::chrono::milliseconds min_sync_period{100};
  ServerOptions server;
};

class Controller {
 public:
  // Every pointer must outlive the controller. `services` and `slices` are started by
  // the caller; the controller adds its handlers here, in the constructor.
  Controller(client::RestClient* client, Services* services,
             EndpointSlices* slices, client::EventRecorder* events, ControllerOptions options);
  ~Controller();  // Stop()
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  // Makes the default certificate, starts the listeners (a port that cannot be bound is
  // logged and left out), the informers and the sync thread. Returns the number of
  // listeners; with none, nothing else starts.
  int Start();
  void Stop();

  // The snapshot in force (null until the informers first synced).
  std::shared_ptr<const Snapshot> Current() const;

 private:
  void MarkDirty();
  void Loop();
  // Rebuilds and swaps the snapshot, reports problems, updates statuses. False when a
  // status update failed (the loop retries later).
  bool Sync();
  // Adds this node's address to the Ingress's status if it is missing. Idempotent.
  Status UpdateStatus(const informer::ObjectPtr& ingress);

  client::RestClient* client_;
  Services* services_;
  EndpointSlices* slices_;
  client::EventRecorder* events_;
  ControllerOptions options_;
  informer::Informer ingresses_, classes_, secrets_;
  std::unique_ptr<Server> server_;

  mutable std::mutex snapshot_mu_;
  std::shared_ptr<const Snapshot> snapshot_;

  std::mutex mu_;  // guards dirty_ and stopping_
  std::condition_variable cv_;
  bool dirty_ = true;
  bool stopping_ = false;
  std::thread thread_;

  // Sync thread only.
  BuildCache cache_;
  std::map<std::string, std::set<std::string>> reported_;  // ingress key -> problems told
};

}  // namespace kubepp::proxy::ingress
