#include "kubelet/kubelet.h"

#include <unistd.h>

#include <cstdio>
#include <thread>

#include "common/api/quantity.h"
#include "common/health_server.h"
#include "common/pki/pki.h"
#include "common/informer/workqueue.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/util/time.h"
#include "kubelet/auth.h"
#include "kubelet/image_gc.h"
#include "kubelet/network/cni.h"
#include "kubelet/node_agent.h"
#include "kubelet/runtime/fake_runtime.h"
#include "kubelet/runtime/runc_runtime.h"
#include "kubelet/server.h"

namespace kubepp::kubelet {

namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

std::string Hostname() {
  char buf[256] = {};
  gethostname(buf, sizeof(buf) - 1);
  std::string h = buf;
  for (auto& ch : h) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return h.empty() ? "localhost" : h;
}

// Sleeps until `until` or *stop, in short steps.
void SleepUntil(steady_clock::time_point until, const std::atomic<bool>* stop) {
  while (!stop->load() && steady_clock::now() < until) {
    std::this_thread::sleep_for(std::min<steady_clock::duration>(milliseconds(200), until - steady_clock::now()));
  }
}

Status ApplySystemReserved(const std::string& text, NodeConfig& config) {
  ASSIGN_OR_RETURN(auto kv, ParseLabels(text));
  for (auto& [k, v] : kv) {
    ASSIGN_OR_RETURN(double q, api::ParseQuantity(v));
    if (k == "cpu") {
      config.reserved_cpu_millis = api::MilliValue(q);
    } else if (k == "memory") {
      config.reserved_memory_bytes = api::WholeValue(q);
    } else {
      return BadRequest("--system-reserved: unknown resource " + k);
    }
  }
  return Status::Ok();
}

}  // namespace

void AddFlags(FlagSet& f, KubeletOptions* o) {
  client::AddClientFlags(f, &o->client);
  f.String("node-name", &o->node_name, "name of this node (default: the hostname)");
  f.String("hostname-override", &o->node_name, "same as --node-name (upstream's name)");
  f.String("node-ip", &o->node_ip, "the node's InternalIP; pods' hostIP");
  f.String("address", &o->address, "address the kubelet server listens on (default: --node-ip)");
  f.Int("kubelet-port", &o->kubelet_port, "port of the kubelet server (/healthz, /pods, /containerLogs)");
  f.Int("port", &o->kubelet_port, "same as --kubelet-port (upstream's name)");
  f.String("tls-cert-file", &o->tls_cert_file,
           "serving certificate of the kubelet API (PEM, chain allowed); default: a self-signed "
           "one made at first start in <root-dir>/pki");
  f.String("tls-private-key-file", &o->tls_private_key_file, "key of --tls-cert-file");
  f.String("client-ca-file", &o->client_ca_file,
           "CA whose client certificates authenticate to the kubelet API (CN user, O groups)");
  f.Bool("authentication-token-webhook", &o->authentication_token_webhook,
         "authenticate bearer tokens to the kubelet API with TokenReviews to the apiserver");
  f.Bool("anonymous-auth", &o->anonymous_auth,
         "let unauthenticated requests to the kubelet API through as system:anonymous "
         "(else 401)");
  f.String("authorization-mode", &o->authorization_mode,
           "Webhook (SubjectAccessReviews to the apiserver) or AlwaysAllow; default: Webhook "
           "with a --kubeconfig, else AlwaysAllow");
  f.Int("healthz-port", &o->healthz_port, "plain HTTP /healthz port (0: none)");
  f.String("healthz-bind-address", &o->healthz_bind_address, "address of --healthz-port");
  f.String("root-dir", &o->root_dir, "where pod volumes, logs, images and runtime state live");
  f.String("images-dir", &o->images_dir,
           "image tarballs (docker save / OCI layout) imported at start and when they appear "
           "(default: <root-dir>/images-import)");
  f.String("runtime", &o->runtime, "container runtime: runc or fake");
  f.String("container-runtime", &o->runtime, "same as --runtime");
  f.Int("hollow-nodes", &o->hollow_nodes,
        "with --runtime=fake: run this many hollow nodes named <node-name>-0..N-1");
  f.String("node-labels", &o->node_labels, "labels to add to the Node: k=v,k2=v2");
  f.String("register-with-taints", &o->register_with_taints, "taints of the Node: k=v:NoSchedule,...");
  f.String("system-reserved", &o->system_reserved, "resources kept from pods: cpu=100m,memory=100Mi");
  f.String("cluster-dns", &o->cluster_dns, "DNS server IP for pods (ClusterFirst)");
  f.String("cluster-domain", &o->cluster_domain, "the cluster's DNS domain");
  f.String("pod-cidr", &o->pod_cidr, "pod CIDR to use until the Node has spec.podCIDR");
  f.Int("pod-workers", &o->pod_workers, "threads syncing pods (each pod on one at a time)");
  f.Int("lease-renew-seconds", &o->lease_renew_seconds, "how often the node Lease is renewed");
  f.Int("node-status-update-frequency", &o->node_status_update_seconds,
        "seconds between node status computations");
  f.String("runc", &o->runc_binary, "the OCI runtime binary");
  f.String("cni-bin-dir", &o->cni_bin_dir, "where the CNI plugins are");
  f.String("cni-conf-dir", &o->cni_conf_dir, "a *.conflist here replaces the default bridge network");
  f.String("cni-bridge", &o->cni_bridge, "bridge of the default CNI network (one per kubelet)");
  f.String("cgroup-parent", &o->cgroup_parent,
           "cgroup path pods go under (default: <own memory cgroup>/kubepp-<node>)");
  f.String("registry-ca-file", &o->registry_ca_file,
           "PEM CA bundle registries' certificates are verified against (default: the system CAs)");
  f.String("insecure-registries", &o->insecure_registries,
           "comma-separated host:port registries that may be reached over plain http (port * = any)");
  f.Int("image-gc-high-threshold", &o->image_gc_high_threshold,
        "percent of the image file system's space in use at or above which unused images are "
        "removed (every 5 minutes; 100 = never for space)");
  f.Int("image-gc-low-threshold", &o->image_gc_low_threshold,
        "percent of space in use that image garbage collection frees down to");
  f.Duration("image-minimum-gc-age", &o->image_minimum_gc_age,
           "minimum age of an unused image before it may be garbage collected (Go duration)");
  f.Duration("image-maximum-gc-age", &o->image_maximum_gc_age,
           "unused images not used for this long are removed regardless of disk usage (0s = off)");
  f.Duration("image-gc-period", &o->image_gc_period,
           "how often image garbage collection runs (upstream: always 5m; for tests)");
}

namespace {

Result<ImageGCPolicy> ImageGCPolicyOf(const KubeletOptions& o) {
  ImageGCPolicy p;
  p.high_threshold_percent = o.image_gc_high_threshold;
  p.low_threshold_percent = o.image_gc_low_threshold;
  p.min_age = o.image_minimum_gc_age;
  p.max_age = o.image_maximum_gc_age;
  RETURN_IF_ERROR(ValidateImageGCPolicy(p));
  return p;
}

RuncOptions RuncOptionsOf(const KubeletOptions& o) {
  RuncOptions ro;
  ro.root_dir = o.root_dir;
  ro.runc_binary = o.runc_binary;
  ro.images_dir = o.images_dir.empty() ? o.root_dir + "/images-import" : o.images_dir;
  ro.cni_bin_dir = o.cni_bin_dir;
  ro.cni_conf_dir = o.cni_conf_dir;
  ro.cni_bridge = o.cni_bridge;
  ro.cgroup_parent = o.cgroup_parent;
  ro.node_name = o.node_name;
  ro.registry.ca_file = o.registry_ca_file;
  ro.registry.insecure_registries = ParseInsecureRegistries(o.insecure_registries);
  return ro;
}

// The API's certificate files: the given ones, or the self-signed pair in
// <root-dir>/pki (made, or remade when it no longer covers the node's names).
Status PrepareServingCert(KubeletOptions& o) {
  if (o.tls_cert_file.empty() != o.tls_private_key_file.empty()) {
    return BadRequest("--tls-cert-file and --tls-private-key-file must be given together");
  }
  if (!o.tls_cert_file.empty()) return Status::Ok();
  pki::CertSpec spec;
  spec.common_name = o.node_name;
  spec.server = true;
  spec.dns_names = {o.node_name};
  if (o.node_name != "localhost") spec.dns_names.push_back("localhost");
  for (const std::string& ip : {o.node_ip, o.address, std::string("127.0.0.1")}) {
    if (ip.empty() || ip == "0.0.0.0" || ip == "::") continue;
    if (std::find(spec.ip_addresses.begin(), spec.ip_addresses.end(), ip) == spec.ip_addresses.end()) {
      spec.ip_addresses.push_back(ip);
    }
  }
  o.tls_cert_file = o.root_dir + "/pki/kubelet.crt";
  o.tls_private_key_file = o.root_dir + "/pki/kubelet.key";
  return pki::EnsureSelfSigned(spec, o.tls_cert_file, o.tls_private_key_file);
}

Result<std::shared_ptr<KubeletAuth>> MakeAuth(const KubeletOptions& o, client::RestClient* client) {
  KubeletAuthOptions ao;
  ao.node_name = o.node_name;
  ao.anonymous = o.anonymous_auth;
  if (o.authentication_token_webhook) ao.token_review = ApiTokenReview(client);
  std::string mode = o.authorization_mode;
  if (mode.empty()) mode = o.client.kubeconfig.empty() ? "AlwaysAllow" : "Webhook";
  if (mode == "Webhook") {
    ao.access_review = ApiAccessReview(client);
  } else if (mode != "AlwaysAllow") {
    return BadRequest("--authorization-mode: unsupported mode \"" + mode +
                      "\" (supported: Webhook, AlwaysAllow)");
  }
  if (o.client_ca_file.empty() && !o.authentication_token_webhook && !o.anonymous_auth) {
    LOG(WARNING) << "the kubelet API has no way to authenticate anyone (no --client-ca-file, "
                    "--authentication-token-webhook or --anonymous-auth): every request gets 401";
  }
  LOG(INFO) << "kubelet API: authentication"
            << (o.client_ca_file.empty() ? "" : " x509 (" + o.client_ca_file + ")")
            << (o.authentication_token_webhook ? " token-webhook" : "")
            << (o.anonymous_auth ? " anonymous" : "") << ", authorization " << mode;
  return std::make_shared<KubeletAuth>(std::move(ao));
}

// Starts a server, retrying for a while when its port is taken (Unavailable): after a
// kill -9 it can stay taken for a moment by helper processes (CNI plugins, runc) that
// inherited the old listener. Other errors (bad TLS files) fail at once.
Result<std::unique_ptr<http::Server>> StartWithRetry(
    const std::function<Result<std::unique_ptr<http::Server>>()>& start,
    const std::atomic<bool>* stop) {
  auto give_up = steady_clock::now() + std::chrono::seconds(15);
  while (true) {
    auto started = start();
    if (started.ok() || started.status().code() != Code::kUnavailable ||
        steady_clock::now() >= give_up || stop->load()) {
      return started;
    }
    LOG(WARNING) << "kubelet server: " << started.status().message() << "; retrying";
    SleepUntil(steady_clock::now() + milliseconds(250), stop);
  }
}

}  // namespace

Status Teardown(const KubeletOptions& options) {
  KubeletOptions o = options;
  if (o.node_name.empty()) o.node_name = Hostname();
  ASSIGN_OR_RETURN(auto rt, RuncRuntime::Create(RuncOptionsOf(o)));
  ASSIGN_OR_RETURN(auto sandboxes, rt->ListPodSandboxes());
  for (auto& s : sandboxes) RETURN_IF_ERROR(rt->RemovePodSandbox(s.id));
  ASSIGN_OR_RETURN(auto containers, rt->ListContainers());
  for (auto& c : containers) RETURN_IF_ERROR(rt->RemoveContainer(c.id));
  LOG(INFO) << "removed " << sandboxes.size() << " pod sandbox(es) and " << containers.size()
            << " stray container(s)";
  RemoveNodeRules(o.cni_bridge);
  return Status::Ok();
}

Status ImportImages(const KubeletOptions& options, const std::vector<std::string>& files) {
  ASSIGN_OR_RETURN(auto store, ImageStore::Open(options.root_dir + "/images"));
  for (const auto& file : files) {
    auto imported = store->Import(file);
    if (!imported.ok()) return Status(imported.status().code(), file + ": " + imported.status().message());
    for (auto& img : *imported) {
      for (auto& tag : img.repo_tags) std::printf("%s %s\n", img.id.c_str(), tag.c_str());
    }
  }
  return Status::Ok();
}

Status Run(const KubeletOptions& options, const std::atomic<bool>* stop) {
  KubeletOptions o = options;
  if (o.node_name.empty()) o.node_name = Hostname();
  if (o.address.empty()) o.address = o.node_ip;
  if (o.hollow_nodes > 0 && o.runtime != "fake") {
    return BadRequest("--hollow-nodes needs --runtime=fake");
  }
  ASSIGN_OR_RETURN(ImageGCPolicy gc_policy, ImageGCPolicyOf(o));
  if (o.image_gc_period.count() <= 0) {
    return BadRequest("--image-gc-period: want a positive duration, got \"" +
                      util::FormatDuration(o.image_gc_period) + "\"");
  }
  ASSIGN_OR_RETURN(auto http_options, client::ClientOptionsFromFlags(o.client));
  http_options.user_agent = "kubelet/kubepp";
  ASSIGN_OR_RETURN(std::unique_ptr<client::RestClient> client,
                   client::HttpRestClient::Create(http_options));
  std::shared_ptr<KubeletAuth> auth;
  if (o.kubelet_port > 0) {
    RETURN_IF_ERROR(PrepareServingCert(o));
    ASSIGN_OR_RETURN(auth, MakeAuth(o, client.get()));
  }

  NodeConfig base;
  base.node_ip = o.node_ip;
  base.kubelet_port = o.kubelet_port;
  base.root_dir = o.root_dir;
  base.pod_cidr = o.pod_cidr;
  base.cluster_dns = o.cluster_dns;
  base.cluster_domain = o.cluster_domain;
  ASSIGN_OR_RETURN(base.labels, ParseLabels(o.node_labels));
  ASSIGN_OR_RETURN(base.taints, ParseTaints(o.register_with_taints));
  RETURN_IF_ERROR(ApplySystemReserved(o.system_reserved, base));
  DetectMachine(base);

  // Runtimes and agents.
  int count = o.runtime == "fake" ? std::max(1, o.hollow_nodes) : 1;
  std::vector<std::unique_ptr<ContainerRuntime>> runtimes;
  std::vector<std::unique_ptr<Prober>> probers;
  for (int i = 0; i < count; ++i) {
    if (o.runtime == "fake") {
      runtimes.push_back(std::make_unique<FakeRuntime>());
      probers.push_back(std::make_unique<HollowProber>(runtimes.back().get()));
    } else if (o.runtime == "runc") {
      ASSIGN_OR_RETURN(auto rt, RuncRuntime::Create(RuncOptionsOf(o)));
      runtimes.push_back(std::move(rt));
      probers.push_back(std::make_unique<RuntimeProber>(runtimes.back().get()));
    } else {
      return BadRequest("unknown --runtime " + o.runtime + " (runc or fake)");
    }
  }

  informer::WorkQueue queue(informer::WorkQueueOptions{milliseconds(500), std::chrono::seconds(60)});
  ProbeManager probes(o.runtime == "fake" ? 1 : 4);
  // Events only for a real node: hollow ones would flood the apiserver with them.
  std::unique_ptr<client::EventRecorder> events;
  if (o.hollow_nodes == 0) {
    client::EventRecorderOptions eo;
    eo.component = "kubelet";
    eo.host = o.node_name;
    events = std::make_unique<client::EventRecorder>(client.get(), eo);
  }
  // One Service informer for all agents: the containers' service environment variables.
  informer::Informer services(client.get(), client::kServices);
  std::map<std::string, NodeAgent*> by_name;
  std::vector<std::unique_ptr<NodeAgent>> agents;
  for (int i = 0; i < count; ++i) {
    NodeConfig c = base;
    c.node_name = o.hollow_nodes > 0 ? o.node_name + "-" + std::to_string(i) : o.node_name;
    std::string prefix = c.node_name + "|";
    auto enqueue = [&queue, prefix](const std::string& key, milliseconds delay) {
      if (delay.count() > 0) {
        queue.AddAfter(prefix + key, delay);
      } else {
        queue.Add(prefix + key);
      }
    };
    agents.push_back(std::make_unique<NodeAgent>(std::move(c), client.get(), runtimes[i].get(),
                                                 probers[i].get(), &probes, SystemClock(), enqueue,
                                                 events.get()));
    by_name[agents.back()->config().node_name] = agents.back().get();
    agents.back()->SetServiceInformer(&services);
  }
  services.Start();

  // Registration: retried until the apiserver answers.
  for (auto& a : agents) {
    while (true) {
      Status st = a->RegisterNode();
      if (st.ok()) break;
      LOG(WARNING) << "registering node " << a->config().node_name << ": " << st.ToString();
      SleepUntil(steady_clock::now() + milliseconds(1000), stop);
      if (stop->load()) return Status::Ok();
    }
    (void)a->RenewLease();
    a->StartPodInformer();
  }

  std::vector<NodeAgent*> raw;
  for (auto& a : agents) raw.push_back(a.get());
  std::unique_ptr<http::Server> server, healthz;
  if (o.kubelet_port > 0) {
    KubeletServerOptions so;
    so.address = o.address;
    so.port = o.kubelet_port;
    so.tls_cert_file = o.tls_cert_file;
    so.tls_key_file = o.tls_private_key_file;
    so.client_ca_file = o.client_ca_file;
    so.auth = auth;
    ASSIGN_OR_RETURN(server, StartWithRetry([&] { return StartKubeletServer(so, raw); }, stop));
  }
  if (o.healthz_port > 0) {
    HealthServerOptions ho;
    ho.bind_address = o.healthz_bind_address;
    ho.port = o.healthz_port;
    ho.serve_metrics = false;
    ASSIGN_OR_RETURN(healthz, StartWithRetry([&] { return StartHealthServer(ho); }, stop));
  }

  auto& syncs = metrics::Registry::Default().AddHistogram(
      "kubelet_pod_worker_duration_seconds", "Duration of one pod sync.", metrics::DefaultBuckets());
  auto& errors = metrics::Registry::Default().AddCounter("kubelet_pod_sync_errors_total",
                                                         "Pod syncs that failed and were retried.");
  std::vector<std::thread> workers;
  for (int i = 0; i < std::max(1, o.pod_workers); ++i) {
    workers.emplace_back([&] {
      std::string qkey;
      while (queue.Get(&qkey)) {
        auto bar = qkey.find('|');
        auto it = by_name.find(qkey.substr(0, bar));
        if (it != by_name.end() && bar != std::string::npos) {
          auto start = steady_clock::now();
          milliseconds again(0);
          Status st = it->second->SyncPod(qkey.substr(bar + 1), &again);
          syncs.Observe(std::chrono::duration<double>(steady_clock::now() - start).count());
          if (!st.ok()) {
            errors.Inc();
            LOG(WARNING) << "sync " << qkey << ": " << st.ToString();
            queue.AddRateLimited(qkey);
          } else {
            queue.Forget(qkey);
            if (again.count() > 0) queue.AddAfter(qkey, again);
          }
        }
        queue.Done(qkey);
      }
    });
  }

  // Heartbeats: each agent's lease every lease_renew_seconds and node status every
  // node_status_update_seconds, spread evenly over the period; PLEG relist each second;
  // housekeeping every 10 s. A few threads share the agents.
  int hb_threads = std::min<int>(4, count);
  std::vector<std::thread> heartbeats;
  for (int t = 0; t < hb_threads; ++t) {
    heartbeats.emplace_back([&, t] {
      std::vector<NodeAgent*> mine;
      for (int i = t; i < count; i += hb_threads) mine.push_back(agents[i].get());
      auto period = std::chrono::seconds(std::max(1, o.lease_renew_seconds));
      auto status_period = std::chrono::seconds(std::max(1, o.node_status_update_seconds));
      // A NotReady node checks again soon: it is usually waiting for its podCIDR, which
      // the controller-manager gives within milliseconds of registration.
      constexpr auto kNotReadyRecheck = std::chrono::milliseconds(200);
      std::vector<steady_clock::time_point> next_lease(mine.size()), next_status(mine.size());
      auto now = steady_clock::now();
      for (size_t i = 0; i < mine.size(); ++i) {
        next_lease[i] = now + period * (i + 1) / (mine.size() + 1);
        next_status[i] = now + kNotReadyRecheck;
        if (mine[i]->Ready()) {
          next_status[i] = now + status_period * (i + 1) / (mine.size() + 1);
        }
      }
      auto next_relist = now, next_housekeeping = now + std::chrono::seconds(10);
      while (!stop->load()) {
        now = steady_clock::now();
        if (now >= next_relist) {
          for (auto* a : mine) a->Relist();
          next_relist = now + std::chrono::seconds(1);
        }
        if (now >= next_housekeeping) {
          for (auto* a : mine) a->Housekeeping();
          next_housekeeping = now + std::chrono::seconds(10);
        }
        auto wake = std::min(next_relist, next_housekeeping);
        for (size_t i = 0; i < mine.size() && !stop->load(); ++i) {
          if (steady_clock::now() >= next_lease[i]) {
            if (Status st = mine[i]->RenewLease(); !st.ok()) {
              LOG(WARNING) << "renewing lease of " << mine[i]->config().node_name << ": " << st.ToString();
            }
            next_lease[i] += period;
            if (next_lease[i] < steady_clock::now()) next_lease[i] = steady_clock::now() + period;
          }
          if (steady_clock::now() >= next_status[i]) {
            if (Status st = mine[i]->UpdateNodeStatus(); !st.ok()) {
              LOG(WARNING) << "node status of " << mine[i]->config().node_name << ": " << st.ToString();
            }
            std::chrono::milliseconds step = mine[i]->Ready() ? status_period : kNotReadyRecheck;
            next_status[i] += step;
            if (next_status[i] < steady_clock::now()) next_status[i] = steady_clock::now() + step;
          }
          wake = std::min({wake, next_lease[i], next_status[i]});
        }
        SleepUntil(wake, stop);
      }
    });
  }

  // Image garbage collection, for a real node's image store.
  std::unique_ptr<ImageGCManager> image_gc;
  std::thread image_gc_thread;
  if (o.runtime == "runc") {
    std::string store = o.root_dir + "/images";
    image_gc = std::make_unique<ImageGCManager>(
        runtimes[0].get(), [store] { return StatFs(store); }, gc_policy, o.node_name, events.get());
    image_gc_thread = std::thread([&] { image_gc->Run(stop, o.image_gc_period); });
  }

  LOG(INFO) << "kubelet running: " << count << " node(s), runtime " << o.runtime
            << (server ? ", serving HTTPS on " + o.address + ":" + std::to_string(server->port()) : "")
            << (healthz ? ", /healthz on " + o.healthz_bind_address + ":" +
                              std::to_string(healthz->port())
                        : "");
  while (!stop->load()) std::this_thread::sleep_for(milliseconds(200));

  LOG(INFO) << "kubelet stopping (containers keep running)";
  for (auto& t : heartbeats) t.join();
  if (image_gc_thread.joinable()) image_gc_thread.join();
  queue.ShutDown();
  for (auto& t : workers) t.join();
  if (server) server->Stop();
  if (healthz) healthz->Stop();
  probes.Stop();
  for (auto& a : agents) a->StopPodInformer();
  services.Stop();
  return Status::Ok();
}

}  // namespace kubepp::kubelet
