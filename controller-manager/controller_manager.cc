#include "controller-manager/controller_manager.h"

#include <functional>
#include <memory>
#include <set>
#include <sstream>
#include <thread>

#include "common/client/rest_client.h"
#include "common/http/server.h"
#include "common/leaderelection/leader_election.h"
#include "common/health_server.h"
#include "common/log.h"
#include "common/util/file.h"
#include "common/metrics.h"
#include "controller-manager/framework/clock.h"
#include "controller-manager/framework/controller.h"
#include "controller-manager/framework/events.h"
#include "controller-manager/framework/informers.h"
#include "controller-manager/cronjob/cronjob_controller.h"
#include "controller-manager/daemonset/daemonset_controller.h"
#include "controller-manager/deployment/deployment_controller.h"
#include "controller-manager/endpoint/endpoints_controller.h"
#include "controller-manager/endpoint/endpointslice_controller.h"
#include "controller-manager/garbagecollector/garbage_collector.h"
#include "controller-manager/job/job_controller.h"
#include "controller-manager/namespace/namespace_controller.h"
#include "controller-manager/nodeipam/nodeipam_controller.h"
#include "controller-manager/nodelifecycle/nodelifecycle_controller.h"
#include "controller-manager/podgc/podgc_controller.h"
#include "controller-manager/replicaset/replicaset_controller.h"
#include "controller-manager/rootcacertpublisher/publisher.h"
#include "controller-manager/serviceaccount/serviceaccount_controller.h"
#include "controller-manager/statefulset/statefulset_controller.h"
#include "controller-manager/volume/local_path_provisioner.h"
#include "controller-manager/volume/protection_controller.h"
#include "controller-manager/volume/pv_binder.h"

namespace kubepp::controllermanager {
namespace {

using controller::QueueController;

struct Context {
  const Options* options;
  client::HttpRestClient* client;
  controller::SharedInformers* informers;
  const controller::Clock* clock;
  controller::EventRecorder* events;
};

// A controller to run; a null controller is one its flags turn off.
struct Running {
  std::unique_ptr<QueueController> controller;
  int workers = 1;
};

using Factory = std::function<Result<Running>(const Context&)>;

const std::vector<std::pair<std::string, Factory>>& Factories() {
  static const auto* factories = new std::vector<std::pair<std::string, Factory>>{
      {"replicaset",
       [](const Context& c) -> Result<Running> {
         return Running{std::make_unique<controller::ReplicaSetController>(
                            c.client, c.informers, c.clock, c.events),
                        c.options->concurrent_replicaset_syncs};
       }},
      {"deployment",
       [](const Context& c) -> Result<Running> {
         return Running{std::make_unique<controller::DeploymentController>(
                            c.client, c.informers, c.clock, c.events),
                        c.options->concurrent_deployment_syncs};
       }},
      {"job",
       [](const Context& c) -> Result<Running> {
         return Running{std::make_unique<controller::JobController>(c.client, c.informers,
                                                                     c.clock, c.events),
                        c.options->concurrent_other_syncs};
       }},
      {"statefulset",
       [](const Context& c) -> Result<Running> {
         return Running{std::make_unique<controller::StatefulSetController>(
                            c.client, c.informers, c.clock, c.events),
                        c.options->concurrent_other_syncs};
       }},
      {"cronjob",
       [](const Context& c) -> Result<Running> {
         return Running{std::make_unique<controller::CronJobController>(c.client, c.informers,
                                                                         c.clock, c.events),
                        c.options->concurrent_other_syncs};
       }},
      {"daemonset",
       [](const Context& c) -> Result<Running> {
         return Running{std::make_unique<controller::DaemonSetController>(c.client, c.informers,
                                                                           c.clock, c.events),
                        c.options->concurrent_other_syncs};
       }},
      {"namespace",
       [](const Context& c) -> Result<Running> {
         return Running{std::make_unique<controller::NamespaceController>(
                            c.client, c.informers, controller::HttpNamespaceFinalizer(c.client)),
                        c.options->concurrent_namespace_syncs};
       }},
      {"serviceaccount",
       [](const Context& c) -> Result<Running> {
         return Running{std::make_unique<controller::ServiceAccountController>(c.client, c.informers),
                        c.options->concurrent_other_syncs};
       }},
      {"root-ca-cert-publisher",
       [](const Context& c) -> Result<Running> {
         std::string ca;
         if (!c.options->root_ca_file.empty()) {
           ASSIGN_OR_RETURN(ca, util::ReadFile(c.options->root_ca_file));
         } else {
           ASSIGN_OR_RETURN(http::ClientOptions co, client::ClientOptionsFromFlags(c.options->client));
           ca = co.ca_data;
           if (ca.empty() && !co.ca_file.empty()) {
             ASSIGN_OR_RETURN(ca, util::ReadFile(co.ca_file));
           }
         }
         if (ca.empty()) {
           LOG(INFO) << "root-ca-cert-publisher: off (no --root-ca-file and no CA in the "
                        "kubeconfig): namespaces get no kube-root-ca.crt";
           return Running{};
         }
         return Running{std::make_unique<controller::RootCaCertPublisher>(c.client, c.informers,
                                                                           std::move(ca)),
                        c.options->concurrent_other_syncs};
       }},
      {"endpoint",
       [](const Context& c) -> Result<Running> {
         return Running{std::make_unique<controller::EndpointsController>(c.client, c.informers),
                        c.options->concurrent_endpoint_syncs};
       }},
      {"endpointslice",
       [](const Context& c) -> Result<Running> {
         return Running{
             std::make_unique<controller::EndpointSliceController>(c.client, c.informers),
             c.options->concurrent_endpoint_syncs};
       }},
      {"nodeipam",
       [](const Context& c) -> Result<Running> {
         if (!c.options->allocate_node_cidrs) return Running{};  // as upstream: off
         ASSIGN_OR_RETURN(controller::CidrSet cidrs,
                          controller::CidrSet::Create(c.options->cluster_cidr,
                                                      c.options->node_cidr_mask_size));
         return Running{std::make_unique<controller::NodeIpamController>(
                            c.client, c.informers, std::move(cidrs), c.events),
                        1};
       }},
      {"nodelifecycle",
       [](const Context& c) -> Result<Running> {
         controller::NodeLifecycleOptions o;
         o.grace_period_seconds = c.options->node_monitor_grace_period;
         o.monitor_period_seconds = c.options->node_monitor_period;
         o.unhealthy_zone_threshold = c.options->unhealthy_zone_threshold;
         return Running{std::make_unique<controller::NodeLifecycleController>(
                            c.client, c.informers, c.clock, c.events, o),
                        1};
       }},
      {"podgc",
       [](const Context& c) -> Result<Running> {
         controller::PodGcOptions o;
         o.terminated_pod_gc_threshold = c.options->terminated_pod_gc_threshold;
         return Running{std::make_unique<controller::PodGcController>(c.client, c.informers,
                                                                      c.clock, o),
                        1};
       }},
      {"persistentvolume-binder",
       [](const Context& c) -> Result<Running> {
         // One worker: matching claims to volumes is done one claim at a time.
         return Running{std::make_unique<controller::PersistentVolumeBinder>(
                            c.client, c.informers, c.events),
                        1};
       }},
      {"local-path-provisioner",
       [](const Context& c) -> Result<Running> {
         return Running{std::make_unique<controller::LocalPathProvisioner>(
                            c.client, c.informers, c.events, c.options->local_path_dir),
                        c.options->concurrent_other_syncs};
       }},
      {"pvc-protection",
       [](const Context& c) -> Result<Running> {
         return Running{std::make_unique<controller::StorageProtectionController>(
                            c.client, c.informers, true),
                        c.options->concurrent_other_syncs};
       }},
      {"pv-protection",
       [](const Context& c) -> Result<Running> {
         return Running{std::make_unique<controller::StorageProtectionController>(
                            c.client, c.informers, false),
                        c.options->concurrent_other_syncs};
       }},
      {"garbagecollector",
       [](const Context& c) -> Result<Running> {
         return Running{std::make_unique<controller::GarbageCollector>(c.client, c.informers),
                        c.options->concurrent_gc_syncs};
       }},
  };
  return *factories;
}

// Builds the enabled controllers, starts the informers and runs the controllers until
// *stop turns true.
Status RunControllers(const Options& options, client::HttpRestClient* client,
                      const std::atomic<bool>* stop) {
  ASSIGN_OR_RETURN(auto enabled, EnabledControllers(options.controllers));
  controller::RealClock clock;
  controller::EventRecorder events(client, "controller-manager");
  // Declared before the informers so that the informers (whose handlers call into the
  // controllers) stop before the controllers are destroyed, on every return path.
  std::vector<Running> running;
  controller::SharedInformers informers(client);
  Context ctx{&options, client, &informers, &clock, &events};
  std::set<std::string> wanted(enabled.begin(), enabled.end());
  for (const auto& [name, factory] : Factories()) {
    if (!wanted.count(name)) continue;
    ASSIGN_OR_RETURN(Running r, factory(ctx));
    if (r.controller) running.push_back(std::move(r));
  }
  informers.Start();
  if (!informers.WaitForSync(std::chrono::hours(24), stop)) return Status::Ok();  // stopped
  LOG(INFO) << "informers synced; starting " << running.size() << " controllers";
  std::vector<std::thread> threads;
  for (auto& r : running) {
    threads.emplace_back([&r, stop] { r.controller->Run(r.workers, stop); });
  }
  for (auto& t : threads) t.join();
  return Status::Ok();
}

}  // namespace

void AddFlags(FlagSet& f, Options* o) {
  client::AddClientFlags(f, &o->client);
  f.String("controllers", &o->controllers,
           "controllers to run: '*' for all, 'name' to enable, '-name' to disable "
           "(comma-separated)");
  f.Bool("leader-elect", &o->leader_elect,
         "take the lease before running controllers (for several replicas)");
  f.String("leader-elect-resource-namespace", &o->leader_elect_resource_namespace,
           "namespace of the leader election Lease");
  f.String("leader-elect-resource-name", &o->leader_elect_resource_name,
           "name of the leader election Lease");
  f.Int("leader-elect-lease-duration", &o->leader_elect_lease_duration,
        "seconds a non-leader waits after the last renewal before taking over");
  f.Int("leader-elect-renew-deadline", &o->leader_elect_renew_deadline,
        "seconds the leader keeps trying to renew before it stops leading");
  f.Int("leader-elect-retry-period", &o->leader_elect_retry_period,
        "seconds between attempts to acquire or renew the lease");
  f.String("bind-address", &o->bind_address, "address /healthz and /metrics listen on");
  f.Int("port", &o->port, "port /healthz and /metrics listen on (0: any free port)");
  f.Bool("allocate-node-cidrs", &o->allocate_node_cidrs,
         "allocate spec.podCIDR for nodes from --cluster-cidr");
  f.String("cluster-cidr", &o->cluster_cidr, "CIDR pod addresses come from");
  f.Int("node-cidr-mask-size", &o->node_cidr_mask_size, "prefix length of each node's podCIDR");
  f.Int("node-monitor-grace-period", &o->node_monitor_grace_period,
        "seconds without a node heartbeat before the node is marked unknown");
  f.Int("node-monitor-period", &o->node_monitor_period, "seconds between node health checks");
  f.Int("terminated-pod-gc-threshold", &o->terminated_pod_gc_threshold,
        "finished pods kept before the oldest are deleted (0: keep all)");
  f.Double("unhealthy-zone-threshold", &o->unhealthy_zone_threshold,
           "fraction of not-ready nodes (with more than 2 of them) at which eviction stops");
  f.String("root-ca-file", &o->root_ca_file,
           "PEM CA bundle published as ConfigMap kube-root-ca.crt in every namespace "
           "(default: the --kubeconfig's CA)");
  f.String("local-path-dir", &o->local_path_dir,
           "directory the local-path provisioner makes hostPath PersistentVolumes in");
  f.Int("concurrent-replicaset-syncs", &o->concurrent_replicaset_syncs,
        "ReplicaSets synced at once");
  f.Int("concurrent-deployment-syncs", &o->concurrent_deployment_syncs,
        "Deployments synced at once");
  f.Int("concurrent-endpoint-syncs", &o->concurrent_endpoint_syncs,
        "Services whose Endpoints/EndpointSlices are synced at once");
  f.Int("concurrent-gc-syncs", &o->concurrent_gc_syncs, "garbage collector workers");
  f.Int("concurrent-namespace-syncs", &o->concurrent_namespace_syncs,
        "namespaces deleted at once");
  f.Int("concurrent-other-syncs", &o->concurrent_other_syncs,
        "workers of each other controller");
}

const std::vector<std::string>& KnownControllers() {
  static const auto* names = [] {
    auto* v = new std::vector<std::string>;
    for (const auto& [name, f] : Factories()) v->push_back(name);
    return v;
  }();
  return *names;
}

Result<std::vector<std::string>> EnabledControllers(const std::string& spec) {
  const auto& known = KnownControllers();
  std::set<std::string> on, off;
  bool all = false;
  std::stringstream in(spec);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (item.empty()) continue;
    if (item == "*") {
      all = true;
      continue;
    }
    bool disable = item[0] == '-';
    std::string name = disable ? item.substr(1) : item;
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      return BadRequest("--controllers: unknown controller \"" + name + "\"");
    }
    (disable ? off : on).insert(name);
  }
  std::vector<std::string> out;
  for (const auto& name : known) {
    if ((all || on.count(name)) && !off.count(name)) out.push_back(name);
  }
  return out;
}

Status Run(const Options& options, const std::atomic<bool>* stop) {
  ASSIGN_OR_RETURN(auto enabled, EnabledControllers(options.controllers));
  ASSIGN_OR_RETURN(http::ClientOptions client_options,
                   client::ClientOptionsFromFlags(options.client));
  client_options.user_agent = "kubepp-controller-manager";
  ASSIGN_OR_RETURN(std::unique_ptr<client::HttpRestClient> client,
                   client::HttpRestClient::Create(client_options));

  HealthServerOptions ho;
  ho.bind_address = options.bind_address;
  ho.port = options.port;
  ASSIGN_OR_RETURN(auto server, StartHealthServer(std::move(ho)));
  LOG(INFO) << "controller-manager: serving /healthz and /metrics on " << options.bind_address
            << ":" << server->port() << "; controllers: " << enabled.size();

  if (!options.leader_elect) return RunControllers(options, client.get(), stop);

  leaderelection::LeaderElectionConfig cfg;
  cfg.lease_namespace = options.leader_elect_resource_namespace;
  cfg.lease_name = options.leader_elect_resource_name;
  cfg.identity = leaderelection::DefaultIdentity();
  cfg.lease_duration = std::chrono::seconds(options.leader_elect_lease_duration);
  cfg.renew_deadline = std::chrono::seconds(options.leader_elect_renew_deadline);
  cfg.retry_period = std::chrono::seconds(options.leader_elect_retry_period);
  Status result;
  std::atomic<bool> lost{false};
  cfg.callbacks.on_started_leading = [&](const std::atomic<bool>* leading_stop) {
    LOG(INFO) << "controller-manager: became leader as " << cfg.identity;
    result = RunControllers(options, client.get(), leading_stop);
  };
  cfg.callbacks.on_stopped_leading = [&] {
    if (!stop->load()) lost = true;
  };
  leaderelection::LeaderElector elector(client.get(), cfg);
  elector.Run(stop);
  if (!result.ok()) return result;
  if (lost) return Unavailable("leader election lost");
  return Status::Ok();
}

}  // namespace kubepp::controllermanager
