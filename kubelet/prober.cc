#include "kubelet/prober.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <set>


namespace kubepp::kubelet {

std::string_view ProbeTypeName(ProbeType type) {
  switch (type) {
    case ProbeType::kLiveness: return "Liveness";
    case ProbeType::kReadiness: return "Readiness";
    case ProbeType::kStartup: return "Startup";
  }
  return "";
}

namespace {

// A port given as a number or as the name of one of the container's ports.
int ResolvePort(const api::Value& container, const api::Value* port) {
  if (port == nullptr) return 0;
  if (port->IsInt()) return port->GetInt();
  if (!port->IsString()) return 0;
  std::string name = port->GetString();
  if (const api::Value* ports = api::Find(container, "ports"); ports && ports->IsArray()) {
    for (auto& p : ports->GetArray()) {
      if (api::GetString(p, "name") == name) return static_cast<int>(api::GetInt(p, "containerPort"));
    }
  }
  return std::atoi(name.c_str());
}

// A connected, blocking socket to host:port within timeout, or -1 with *message set.
int Connect(const std::string& host, int port, int timeout_seconds, std::string* message) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    *message = "bad probe host " + host;
    return -1;
  }
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    *message = std::string("socket: ") + std::strerror(errno);
    return -1;
  }
  int rc = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  if (rc != 0 && errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    rc = poll(&p, 1, timeout_seconds * 1000) == 1 ? 0 : -1;
    int err = 0;
    socklen_t len = sizeof(err);
    if (rc == 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err != 0) {
      errno = err;
      rc = -1;
    } else if (rc != 0) {
      errno = ETIMEDOUT;
    }
  }
  if (rc != 0) {
    *message = "dial tcp " + host + ":" + std::to_string(port) + ": " + std::strerror(errno);
    close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

ProbeSpec ParseProbe(const api::Value& container, const api::Value& probe) {
  ProbeSpec s;
  if (!probe.IsObject()) return s;
  s.initial_delay_seconds = static_cast<int>(api::GetInt(probe, "initialDelaySeconds", 0));
  s.timeout_seconds = std::max<int>(1, static_cast<int>(api::GetInt(probe, "timeoutSeconds", 1)));
  s.period_seconds = std::max<int>(1, static_cast<int>(api::GetInt(probe, "periodSeconds", 10)));
  s.success_threshold = std::max<int>(1, static_cast<int>(api::GetInt(probe, "successThreshold", 1)));
  s.failure_threshold = std::max<int>(1, static_cast<int>(api::GetInt(probe, "failureThreshold", 3)));
  if (const api::Value* cmd = api::Find(probe, "exec.command"); cmd && cmd->IsArray()) {
    s.kind = ProbeSpec::Kind::kExec;
    for (auto& c : cmd->GetArray()) s.command.push_back(std::string(api::View(c)));
  } else if (const api::Value* h = api::Find(probe, "httpGet"); h && h->IsObject()) {
    s.kind = ProbeSpec::Kind::kHttpGet;
    s.host = api::GetString(*h, "host");
    s.port = ResolvePort(container, api::FindMember(*h, "port"));
    s.path = api::GetString(*h, "path", "/");
    if (s.path.empty() || s.path[0] != '/') s.path = "/" + s.path;
    s.scheme = api::GetString(*h, "scheme", "HTTP");
    if (const api::Value* hs = api::FindMember(*h, "httpHeaders"); hs && hs->IsArray()) {
      for (auto& x : hs->GetArray()) {
        s.headers.emplace_back(api::GetString(x, "name"), api::GetString(x, "value"));
      }
    }
  } else if (const api::Value* t = api::Find(probe, "tcpSocket"); t && t->IsObject()) {
    s.kind = ProbeSpec::Kind::kTcpSocket;
    s.host = api::GetString(*t, "host");
    s.port = ResolvePort(container, api::FindMember(*t, "port"));
  }
  return s;
}

ProbeState InitialProbeState(ProbeType type) {
  ProbeState s;
  s.result = type == ProbeType::kLiveness    ? ProbeResult::kSuccess
             : type == ProbeType::kReadiness ? ProbeResult::kFailure
                                             : ProbeResult::kUnknown;
  return s;
}

bool RecordProbe(ProbeState& state, const ProbeSpec& spec, bool success) {
  ProbeResult before = state.result;
  if (success) {
    state.failures = 0;
    if (++state.successes >= spec.success_threshold) state.result = ProbeResult::kSuccess;
  } else {
    state.successes = 0;
    if (++state.failures >= spec.failure_threshold) state.result = ProbeResult::kFailure;
  }
  return before != state.result;
}

bool TcpProbe(const std::string& host, int port, int timeout_seconds, std::string* message) {
  int fd = Connect(host, port, timeout_seconds, message);
  if (fd < 0) return false;
  close(fd);
  return true;
}

bool HttpGetProbe(const std::string& host, int port, const std::string& path,
                  const std::vector<std::pair<std::string, std::string>>& headers,
                  int timeout_seconds, std::string* message) {
  int fd = Connect(host, port, timeout_seconds, message);
  if (fd < 0) return false;
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: " + host + ":" + std::to_string(port) +
                    "\r\nUser-Agent: kube-probe/1.30\r\nAccept: */*\r\nConnection: close\r\n";
  for (auto& [k, v] : headers) req += k + ": " + v + "\r\n";
  req += "\r\n";
  int flags = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  timeval tv{timeout_seconds, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  if (send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
    *message = std::string("write: ") + std::strerror(errno);
    close(fd);
    return false;
  }
  std::string head;
  char buf[512];
  while (head.find("\r\n") == std::string::npos && head.size() < 4096) {
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    head.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  // "HTTP/1.1 200 OK"
  auto sp = head.find(' ');
  int code = sp == std::string::npos ? 0 : std::atoi(head.c_str() + sp + 1);
  if (code >= 200 && code < 400) return true;
  *message = code == 0 ? "no HTTP response" : "HTTP probe failed with statuscode: " + std::to_string(code);
  return false;
}

bool RuntimeProber::Run(const ProbeSpec& spec, const std::string& pod_ip,
                        const std::string& container_id, std::string* message) {
  std::string host = spec.host.empty() ? pod_ip : spec.host;
  switch (spec.kind) {
    case ProbeSpec::Kind::kExec: {
      auto r = runtime_->ExecSync(container_id, spec.command, spec.timeout_seconds);
      if (!r.ok()) {
        *message = r.status().message();
        return false;
      }
      if (r->exit_code != 0) *message = r->output;
      return r->exit_code == 0;
    }
    case ProbeSpec::Kind::kHttpGet:
      if (spec.scheme == "HTTPS") {
        // Upstream skips verification; a TCP handshake is the part we can check.
        return TcpProbe(host, spec.port, spec.timeout_seconds, message);
      }
      return HttpGetProbe(host, spec.port, spec.path, spec.headers, spec.timeout_seconds,
                          message);
    case ProbeSpec::Kind::kTcpSocket:
      return TcpProbe(host, spec.port, spec.timeout_seconds, message);
    case ProbeSpec::Kind::kNone:
      return true;
  }
  return true;
}

bool HollowProber::Run(const ProbeSpec& spec, const std::string&, const std::string& container_id,
                       std::string* message) {
  if (spec.kind != ProbeSpec::Kind::kExec) return true;
  auto r = runtime_->ExecSync(container_id, spec.command, spec.timeout_seconds);
  if (!r.ok()) *message = r.status().message();
  return r.ok() && r->exit_code == 0;
}

// ---------------------------------------------------------------------------------------

ProbeManager::ProbeManager(int threads, Clock clock) : clock_(std::move(clock)) {
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Loop(); });
}

ProbeManager::~ProbeManager() { Stop(); }

void ProbeManager::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

ProbeManager::Key ProbeManager::KeyOf(const std::string& uid, const std::string& container_id,
                                      ProbeType type) {
  return uid + "/" + container_id + "/" + std::string(ProbeTypeName(type));
}

void ProbeManager::ScheduleLocked(const Key& key, Worker& w, TimePoint when) {
  w.next = when;
  due_.emplace(when, key);
  cv_.notify_one();
}

bool ProbeManager::StartedLocked(const Worker& w) const {
  if (w.type == ProbeType::kStartup) return true;
  auto it = workers_.find(KeyOf(w.uid, w.container_id, ProbeType::kStartup));
  return it == workers_.end() || it->second.state.result == ProbeResult::kSuccess;
}

void ProbeManager::SyncPod(const std::string& uid, const std::function<void()>& on_change,
                           const std::string& pod_ip, Prober* prober,
                           const std::vector<Target>& running) {
  std::lock_guard lock(mu_);
  std::set<Key> keep;
  for (const auto& t : running) {
    for (ProbeType type : {ProbeType::kLiveness, ProbeType::kReadiness, ProbeType::kStartup}) {
      const char* field = type == ProbeType::kLiveness    ? "livenessProbe"
                          : type == ProbeType::kReadiness ? "readinessProbe"
                                                          : "startupProbe";
      const api::Value* probe = t.spec ? api::FindMember(*t.spec, field) : nullptr;
      if (probe == nullptr || !probe->IsObject()) continue;
      ProbeSpec spec = ParseProbe(*t.spec, *probe);
      if (spec.kind == ProbeSpec::Kind::kNone) continue;
      Key key = KeyOf(uid, t.container_id, type);
      keep.insert(key);
      auto [it, inserted] = workers_.try_emplace(key);
      Worker& w = it->second;
      if (!inserted) {
        w.pod_ip = pod_ip;
        continue;
      }
      w.uid = uid;
      w.on_change = on_change;
      w.container_id = t.container_id;
      w.pod_ip = pod_ip;
      w.type = type;
      w.spec = spec;
      w.prober = prober;
      w.state = InitialProbeState(type);
      int64_t delay = t.started_at + int64_t{spec.initial_delay_seconds} * 1'000'000 -
                      clock_();
      ScheduleLocked(key, w,
                     std::chrono::steady_clock::now() +
                         std::chrono::microseconds(std::max<int64_t>(0, delay)));
    }
  }
  std::string prefix = uid + "/";
  for (auto it = workers_.lower_bound(prefix);
       it != workers_.end() && it->first.compare(0, prefix.size(), prefix) == 0;) {
    if (keep.count(it->first) || it->second.running) {
      if (!keep.count(it->first)) it->second.removed = true;
      ++it;
    } else {
      it = workers_.erase(it);
    }
  }
}

void ProbeManager::RemovePod(const std::string& uid) { SyncPod(uid, nullptr, "", nullptr, {}); }

ProbeResult ProbeManager::Result(const std::string& uid, const std::string& container_id,
                                 ProbeType type) const {
  std::lock_guard lock(mu_);
  auto it = workers_.find(KeyOf(uid, container_id, type));
  if (it == workers_.end()) return ProbeResult::kSuccess;
  return it->second.state.result;
}

bool ProbeManager::HasProbe(const std::string& uid, const std::string& container_id,
                            ProbeType type) const {
  std::lock_guard lock(mu_);
  return workers_.count(KeyOf(uid, container_id, type)) > 0;
}

size_t ProbeManager::WorkerCount() const {
  std::lock_guard lock(mu_);
  return workers_.size();
}

void ProbeManager::Loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (due_.empty()) {
      cv_.wait(lock);
      continue;
    }
    auto first = due_.begin();
    if (first->first > std::chrono::steady_clock::now()) {
      cv_.wait_until(lock, first->first);
      continue;
    }
    Key key = first->second;
    due_.erase(first);
    auto it = workers_.find(key);
    if (it == workers_.end() || it->second.running) continue;
    Worker& w = it->second;
    auto period = std::chrono::seconds(w.spec.period_seconds);
    if (!StartedLocked(w) || (w.type == ProbeType::kStartup &&
                              w.state.result == ProbeResult::kSuccess)) {
      // Waiting for startup, or startup done: look again later.
      if (w.type != ProbeType::kStartup) ScheduleLocked(key, w, std::chrono::steady_clock::now() + period);
      continue;
    }
    w.running = true;
    ProbeSpec spec = w.spec;
    std::string pod_ip = w.pod_ip, container_id = w.container_id;
    Prober* prober = w.prober;
    lock.unlock();
    std::string message;
    bool ok = prober == nullptr || prober->Run(spec, pod_ip, container_id, &message);
    lock.lock();
    it = workers_.find(key);
    if (it == workers_.end()) continue;
    Worker& after = it->second;
    after.running = false;
    if (after.removed) {
      workers_.erase(it);
      continue;
    }
    bool changed = RecordProbe(after.state, after.spec, ok);
    ScheduleLocked(key, after, std::chrono::steady_clock::now() + period);
    if (changed) {
      std::function<void()> notify = after.on_change;
      lock.unlock();
      if (notify) notify();
      lock.lock();
    }
  }
}

}  // namespace kubepp::kubelet
