// One node's kubelet logic (upstream pkg/kubelet minus the process plumbing): registers
// the Node, renews its Lease, keeps its status, watches the pods bound to it and
// converges each one (SyncPod) on a ContainerRuntime. Several agents run in one process
// for hollow nodes; the Kubelet runner (kubelet.h) owns the threads and the work queue
// and calls in here.
//
// SyncPod(key) is idempotent and reads the whole truth each time: the desired pod from
// the informer and the actual sandboxes/containers from the runtime (so a restarted
// kubelet adopts running containers unchanged). In-memory state is only an optimization
// (last status sent) or a timer (SIGTERM sent at, for SIGKILL escalation).
//
// Thread safety: all methods are safe from any thread; the runner never syncs one pod
// key on two threads at once (WorkQueue), which SyncPod relies on.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/client/event_recorder.h"
#include "common/client/rest_client.h"
#include "common/informer/informer.h"
#include "kubelet/backoff.h"
#include "kubelet/clock.h"
#include "kubelet/envvars.h"
#include "kubelet/prober.h"
#include "kubelet/runtime/runtime.h"
#include "kubelet/token_manager.h"

namespace kubepp::kubelet {

struct Taint {
  std::string key, value, effect;
};

struct NodeConfig {
  std::string node_name;
  std::string node_ip = "127.0.0.1";
  std::map<std::string, std::string> labels;  // added to the built-in ones
  std::vector<Taint> taints;                  // registered once, with the Node
  int kubelet_port = 10250;
  std::string root_dir = "/var/lib/kubepp/kubelet";
  std::string pod_cidr;  // used until the Node has spec.podCIDR
  std::string cluster_dns;
  std::string cluster_domain = "cluster.local";
  int64_t cpu_millis = 0;
  int64_t memory_bytes = 0;
  int64_t ephemeral_storage_bytes = 0;
  int64_t max_pods = 110;
  int64_t reserved_cpu_millis = 0;
  int64_t reserved_memory_bytes = 0;
  std::string kernel_version, os_image, machine_id, boot_id;
  std::string kubelet_version = "v1.30.0-kubepp";
  int lease_duration_seconds = 40;
  int node_status_report_seconds = 300;  // resend unchanged status at least this often
  // A pod with configMap, secret, downwardAPI or projected volumes is synced again this
  // often, so changes of the objects reach its files (upstream: --sync-frequency, 1 min).
  std::chrono::milliseconds api_volume_resync{2000};
};

// "a=b,c=d" -> labels; BadRequest on an entry without '='.
Result<std::map<std::string, std::string>> ParseLabels(const std::string& text);
// "key=value:NoSchedule,key2:NoExecute" -> taints.
Result<std::vector<Taint>> ParseTaints(const std::string& text);
// Fills cpu, memory, ephemeral storage, kernel and OS facts of this machine.
void DetectMachine(NodeConfig& config);

class NodeAgent {
 public:
  // Called to (re)process a pod key now (delay 0) or later.
  using Enqueue = std::function<void(const std::string& pod_key, std::chrono::milliseconds delay)>;

  // `client`, `runtime`, `prober`, `probes` and `events` (may be null: no events) must
  // outlive the agent.
  NodeAgent(NodeConfig config, client::RestClient* client, ContainerRuntime* runtime,
            Prober* prober, ProbeManager* probes, Clock clock, Enqueue enqueue,
            client::EventRecorder* events = nullptr);
  ~NodeAgent();

  const NodeConfig& config() const { return config_; }
  ContainerRuntime* runtime() const { return runtime_; }

  // Creates the Node (or adopts the existing one, adding our labels) and sends its
  // status. Learns spec.podCIDR.
  Status RegisterNode();
  // Creates or renews kube-node-lease/<node>.
  Status RenewLease();
  // Sends the node status when it changed or is older than the report period.
  Status UpdateNodeStatus();
  // Whether the last computed status was Ready (a NotReady node is checked every second,
  // so it turns Ready as soon as, say, its pod CIDR arrives).
  bool Ready() const { return ready_; }

  // Where service environment variables come from: a Service informer over every
  // namespace, shared by the agents of the process (it must outlive them). Set before
  // StartPodInformer. Without one, each container start lists the pod's namespace's
  // services and gets default/kubernetes from the apiserver.
  void SetServiceInformer(informer::Informer* services) { services_ = services; }

  // The pod informer (fieldSelector spec.nodeName=<node>): every change enqueues its key.
  void StartPodInformer();
  void StopPodInformer();
  bool PodsSynced() const;
  std::vector<informer::ObjectPtr> Pods() const;

  // PLEG: lists the runtime and enqueues every pod whose containers or sandboxes
  // changed since the last relist (exits, OOM kills, removals).
  void Relist();
  // Enqueues pods that exist in the runtime but not (or as another uid) in the API.
  void Housekeeping();

  // Converges one pod ("ns/name"). `*requeue_after` > 0 asks to run again that much
  // later even without events (backoff expiry, SIGKILL escalation).
  Status SyncPod(const std::string& key, std::chrono::milliseconds* requeue_after);

  // The log file of a container of a pod on this node (`previous`: the attempt before
  // the latest one).
  Result<std::string> LogPath(const std::string& ns, const std::string& pod,
                              const std::string& container, bool previous);

 private:
  struct PodRecord {
    std::string uid;
    std::string last_status;  // JSON sent last
    std::string start_time;
    std::map<std::string, int64_t> sigterm_at;  // container id -> when SIGTERM was sent
    std::set<std::string> volume_reports;  // volume problems already logged and evented
  };
  struct RuntimeView {
    std::vector<SandboxStatus> sandboxes;   // of the pod key, every uid
    std::vector<ContainerStatus> containers;
  };
  Result<RuntimeView> ViewOf(const std::string& key);
  // Kills and removes everything of `key` whose uid is not `keep_uid`.
  Status RemoveOthers(const std::string& key, const std::string& keep_uid, RuntimeView& view);
  // Graceful termination of a pod marked for deletion; finishes with the final DELETE.
  Status TerminatePod(const api::Value& pod, RuntimeView& view,
                      std::chrono::milliseconds* requeue_after);
  // Sends SIGTERM, then SIGKILL once `grace_seconds` passed. Returns true while running.
  bool KillContainer(PodRecord& record, const ContainerStatus& c, int64_t grace_seconds);
  // Starts attempt `attempt` of `spec`; on failure records a waiting reason.
  void StartContainer(const api::Value& pod, const api::Value& spec, uint32_t attempt,
                      const SandboxStatus& sandbox,
                      std::map<std::string, std::pair<std::string, std::string>>& waiting,
                      int64_t* requeue_micros);
  Status WriteStatus(const api::Value& pod, PodRecord& record, const RuntimeView& view,
                     const std::string& pod_ip,
                     const std::map<std::string, std::pair<std::string, std::string>>& waiting);
  // Records an event about `pod` (messages name the container, upstream's fieldPath).
  void Event(const api::Value& pod, std::string_view type, std::string_view reason,
             const std::string& message);
  Result<std::string> LookupKey(const std::string& ns, bool secret, const std::string& name,
                                const std::string& key);
  // The service variables for a container of `pod` (Unavailable until the Service
  // informer has synced).
  Result<EnvList> ServiceEnvFor(const api::Value& pod);
  // The registry credentials in the pod's imagePullSecrets (dockerconfigjson and dockercfg
  // Secrets); unreadable or malformed secrets are logged and skipped.
  std::vector<PullCredential> PullCredentialsOf(const api::Value& pod);
  // Writes the pod's configMap/secret/downwardAPI/projected volumes; records each new
  // problem once (log + FailedMount event). An error: the volumes cannot be set up yet.
  Status SetUpVolumes(const api::Value& pod, PodRecord& record);
  // The pod's persistentVolumeClaim volumes cannot be resolved yet (`why`): records it
  // once (log + FailedMount event), reports its containers ContainerCreating and asks
  // for another look soon.
  Status WaitForClaims(const api::Value& pod, PodRecord& record, const RuntimeView& view,
                       const Status& why, std::chrono::milliseconds* requeue_after);
  api::Document NodeStatus(bool* ready);
  void LearnPodCidr(const api::Value& node);
  PodRecord& RecordOf(const std::string& key, const std::string& uid);

  NodeConfig config_;
  client::RestClient* client_;
  ContainerRuntime* runtime_;
  Prober* prober_;
  ProbeManager* probes_;
  Clock clock_;
  Enqueue enqueue_;
  client::EventRecorder* events_;
  RestartBackoff backoff_;
  TokenManager tokens_;  // service account tokens of projected volumes
  std::unique_ptr<informer::Informer> pods_;
  informer::Informer* services_ = nullptr;

  std::atomic<bool> ready_{false};
  std::mutex mu_;  // guards the fields below
  std::map<std::string, PodRecord> records_;  // by pod key
  std::map<std::string, std::string> relist_;  // PLEG: object id -> "key|state"
  std::string node_uid_;
  std::string pod_cidr_;
  std::string last_node_status_;
  int64_t last_node_report_ = 0;
  int64_t last_cidr_check_ = 0;
  // Node condition type -> {status, lastTransitionTime}.
  std::map<std::string, std::pair<std::string, std::string>> condition_transitions_;
  api::Document lease_;
};

}  // namespace kubepp::kubelet
