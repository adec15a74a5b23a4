#include <chrono>
#include <mutex>
#include <thread>

#include "common/http/server.h"
#include "common/leaderelection/leader_election.h"
#include "common/health_server.h"
#include "common/log.h"
#include "common/metrics.h"
#include "scheduler/options.h"
#include "scheduler/scheduler.h"

namespace kubepp::scheduler {
namespace {

// Informers list every node and pod before scheduling starts; a large cluster on a busy
// apiserver needs a while.
constexpr auto kSyncTimeout = std::chrono::minutes(5);

// The scheduler currently running (while leading), for /metrics.
class Current {
 public:
  void Set(Scheduler* s) {
    std::lock_guard lock(mu_);
    s_ = s;
  }
  void UpdateGauges() {
    std::lock_guard lock(mu_);
    if (s_) s_->UpdateGauges();
  }

 private:
  std::mutex mu_;
  Scheduler* s_ = nullptr;
};

// Schedules until *stop; the error when the caches never synced.
Status Schedule(client::RestClient* client, const SchedulerOptions& o, Current* current,
                const std::atomic<bool>* stop) {
  SchedulerConfig config;
  config.scheduler_name = o.scheduler_name;
  config.percentage_of_nodes_to_score = o.percentage_of_nodes_to_score;
  config.bind_workers = o.bind_workers;
  Scheduler s(client, config);
  Status st = s.Start(kSyncTimeout);
  if (st.ok()) {
    current->Set(&s);
    while (!stop->load()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    current->Set(nullptr);
  }
  s.Stop();
  return st;
}

}  // namespace

void AddFlags(FlagSet& flags, SchedulerOptions* o) {
  client::AddClientFlags(flags, &o->client);
  flags.String("scheduler-name", &o->scheduler_name,
               "schedule the pods whose spec.schedulerName is this");
  flags.Bool("leader-elect", &o->leader_elect,
             "take part in leader election (Lease --leader-elect-resource-namespace/"
             "--leader-elect-resource-name) and schedule only while leading");
  flags.String("leader-elect-resource-namespace", &o->lease_namespace, "namespace of the Lease");
  flags.String("leader-elect-resource-name", &o->lease_name, "name of the Lease");
  flags.Int("percentage-of-nodes-to-score", &o->percentage_of_nodes_to_score,
            "stop filtering once this percentage of the nodes fits (0: adaptive, 50% minus 1% "
            "per 125 nodes, at least 5%; never fewer than 100 nodes)");
  flags.Int("bind-workers", &o->bind_workers, "binding requests in flight at once");
  flags.String("bind-address", &o->bind_address, "address of the /healthz and /metrics endpoint");
  flags.Int("port", &o->port, "plain-HTTP port of /healthz and /metrics (0: disabled)");
}

Status Run(const SchedulerOptions& o, const std::atomic<bool>* stop) {
  ASSIGN_OR_RETURN(http::ClientOptions client_options, client::ClientOptionsFromFlags(o.client));
  client_options.user_agent = "kube-scheduler/kubepp";
  ASSIGN_OR_RETURN(auto client, client::HttpRestClient::Create(client_options));

  Current current;
  std::atomic<bool> leading{!o.leader_elect};
  std::unique_ptr<http::Server> server;
  if (o.port > 0) {
    HealthServerOptions ho;
    ho.bind_address = o.bind_address;
    ho.port = o.port;
    ho.before_metrics = [&] {
      current.UpdateGauges();
      static auto& leader = metrics::Registry::Default().AddGauge(
          "leader_election_master_status", "1 while this replica leads.");
      leader.Set(leading.load() ? 1 : 0);
    };
    ASSIGN_OR_RETURN(server, StartHealthServer(std::move(ho)));
    LOG(INFO) << "scheduler: serving /healthz and /metrics on " << o.bind_address << ":"
              << server->port();
  }

  if (!o.leader_elect) return Schedule(client.get(), o, &current, stop);

  // The election's requests must end well within the renew deadline.
  http::ClientOptions election_options = client_options;
  election_options.timeout_seconds = 5;
  ASSIGN_OR_RETURN(auto election_client, client::HttpRestClient::Create(election_options));
  leaderelection::LeaderElectionConfig cfg;
  cfg.lease_namespace = o.lease_namespace;
  cfg.lease_name = o.lease_name;
  cfg.identity = leaderelection::DefaultIdentity();
  Status result;
  cfg.callbacks.on_started_leading = [&](const std::atomic<bool>* lead_stop) {
    LOG(INFO) << "scheduler: " << cfg.identity << " leads; scheduling";
    leading = true;
    result = Schedule(client.get(), o, &current, lead_stop);
  };
  cfg.callbacks.on_stopped_leading = [&] { leading = false; };
  cfg.callbacks.on_new_leader = [&](const std::string& id) {
    if (id != cfg.identity) LOG(INFO) << "scheduler: the leader is " << id;
  };
  leaderelection::LeaderElector elector(election_client.get(), cfg);
  elector.Run(stop);
  RETURN_IF_ERROR(result);
  if (!stop->load()) return Unavailable("leader election lost");
  return Status::Ok();
}

}  // namespace kubepp::scheduler
