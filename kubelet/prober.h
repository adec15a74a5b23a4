// Liveness, readiness and startup probes (upstream pkg/kubelet/prober): one worker per
// (pod, container, probe type), run every periodSeconds after initialDelaySeconds, with
// success/failure thresholds. Results: liveness starts Success, readiness Failure (not
// ready until a probe passes), startup Unknown until it passes once (after which it stops
// probing); liveness and readiness wait for startup. A result change calls the pod's
// `on_change` so the pod worker acts (kill on liveness/startup Failure,
// flip Ready on readiness).
//
// Thread safety: ProbeManager methods are safe from any thread; probes run on its own
// threads.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/api/json.h"
#include "kubelet/clock.h"
#include "kubelet/runtime/runtime.h"

namespace kubepp::kubelet {

enum class ProbeType { kLiveness, kReadiness, kStartup };
enum class ProbeResult { kUnknown, kSuccess, kFailure };

std::string_view ProbeTypeName(ProbeType type);

// A probe from a container spec, defaults applied.
struct ProbeSpec {
  enum class Kind { kExec, kHttpGet, kTcpSocket, kNone } kind = Kind::kNone;
  std::vector<std::string> command;  // exec
  std::string host;                  // httpGet/tcpSocket; "" = pod IP
  int port = 0;
  std::string path = "/";
  std::string scheme = "HTTP";
  std::vector<std::pair<std::string, std::string>> headers;
  int initial_delay_seconds = 0;
  int timeout_seconds = 1;
  int period_seconds = 10;
  int success_threshold = 1;
  int failure_threshold = 3;
};

// Parses container.<livenessProbe|...>; named ports resolve through container.ports.
// Kind kNone when absent or of an unknown kind.
ProbeSpec ParseProbe(const api::Value& container, const api::Value& probe);

// Consecutive-result bookkeeping of one probe worker.
struct ProbeState {
  ProbeResult result = ProbeResult::kUnknown;
  int successes = 0;
  int failures = 0;
};
ProbeState InitialProbeState(ProbeType type);
// Folds one probe outcome (success or failure) into `state`; returns whether the
// result changed.
bool RecordProbe(ProbeState& state, const ProbeSpec& spec, bool success);

// Runs one probe once. Returns success, with a human-readable message on failure.
class Prober {
 public:
  virtual ~Prober() = default;
  virtual bool Run(const ProbeSpec& spec, const std::string& pod_ip,
                   const std::string& container_id, std::string* message) = 0;
};

// exec through the runtime, httpGet and tcpSocket over real sockets.
class RuntimeProber : public Prober {
 public:
  explicit RuntimeProber(ContainerRuntime* runtime) : runtime_(runtime) {}
  bool Run(const ProbeSpec& spec, const std::string& pod_ip, const std::string& container_id,
           std::string* message) override;

 private:
  ContainerRuntime* runtime_;
};

// Hollow nodes: exec through the (fake) runtime; network probes pass, as no process
// listens on a fake IP.
class HollowProber : public Prober {
 public:
  explicit HollowProber(ContainerRuntime* runtime) : runtime_(runtime) {}
  bool Run(const ProbeSpec& spec, const std::string& pod_ip, const std::string& container_id,
           std::string* message) override;

 private:
  ContainerRuntime* runtime_;
};

// HTTP GET http://host:port/path with a timeout: 200-399 is success.
bool HttpGetProbe(const std::string& host, int port, const std::string& path,
                  const std::vector<std::pair<std::string, std::string>>& headers,
                  int timeout_seconds, std::string* message);
bool TcpProbe(const std::string& host, int port, int timeout_seconds, std::string* message);

class ProbeManager {
 public:
  // `clock` is the one container start times come from (initialDelaySeconds counts from
  // there); the probe period itself runs on the steady clock.
  explicit ProbeManager(int threads = 2, Clock clock = SystemClock());
  ~ProbeManager();  // Stop()
  void Stop();

  // A running container of a pod, for SyncContainers.
  struct Target {
    std::string container_name;
    std::string container_id;
    int64_t started_at = 0;  // unix micros
    const api::Value* spec = nullptr;  // the container's spec (read during the call only)
  };
  // Reconciles the workers of pod `uid` with its running containers: new containers get
  // workers (fresh state), containers no longer running lose theirs.
  // `on_change` runs on a probe thread whenever a result of the pod changes; it must be
  // quick (enqueue the pod).
  void SyncPod(const std::string& uid, const std::function<void()>& on_change,
               const std::string& pod_ip, Prober* prober, const std::vector<Target>& running);
  void RemovePod(const std::string& uid);
  // Liveness/startup default Success and readiness Failure when there is no worker of
  // that container id (a container without that probe gets Success for all three).
  ProbeResult Result(const std::string& uid, const std::string& container_id,
                     ProbeType type) const;
  bool HasProbe(const std::string& uid, const std::string& container_id, ProbeType type) const;
  size_t WorkerCount() const;

 private:
  using TimePoint = std::chrono::steady_clock::time_point;
  struct Worker {
    std::string uid, container_id, pod_ip;
    std::function<void()> on_change;
    ProbeType type;
    ProbeSpec spec;
    Prober* prober = nullptr;
    ProbeState state;
    TimePoint next;
    bool running = false;  // a thread is probing it now
    bool removed = false;  // dropped while running
  };
  using Key = std::string;  // uid/container_id/type
  static Key KeyOf(const std::string& uid, const std::string& container_id, ProbeType type);
  void Loop();
  // Caller holds mu_.
  void ScheduleLocked(const Key& key, Worker& w, TimePoint when);
  bool StartedLocked(const Worker& w) const;

  Clock clock_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<Key, Worker> workers_;
  std::multimap<TimePoint, Key> due_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace kubepp::kubelet
