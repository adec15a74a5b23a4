#include <ifaddrs.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cctype>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/client/event_recorder.h"
#include "common/http/server.h"
#include "common/informer/informer.h"
#include "common/health_server.h"
#include "common/log.h"
#include "common/net/ipv4.h"
#include "common/metrics.h"
#include "common/util/exec.h"
#include "common/util/time.h"
#include "proxy/conntrack.h"
#include "proxy/dns/server.h"
#include "proxy/dns/zone_feed.h"
#include "proxy/host_network.h"
#include "proxy/ingress/controller.h"
#include "proxy/iptables/proxier.h"
#include "proxy/loadbalancer.h"
#include "proxy/nftables/proxier.h"
#include "proxy/options.h"
#include "proxy/pod_routes.h"
#include "proxy/service_proxy.h"

namespace kubepp::proxy {
namespace {

constexpr auto kSyncTimeout = std::chrono::minutes(2);

std::string Hostname() {
  char buf[256] = {};
  gethostname(buf, sizeof buf - 1);
  return buf;
}

// The first IPv4 address of an interface that is not loopback or one of the virtual
// links container tooling makes.
std::string FirstGlobalAddress() {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return "";
  std::string found;
  for (ifaddrs* i = list; i && found.empty(); i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET) continue;
    std::string name = i->ifa_name;
    for (const char* skip : {"lo", "docker", "kubepp", "cni", "veth", "br-", "kpx"}) {
      if (name.rfind(skip, 0) == 0) name.clear();
    }
    if (name.empty()) continue;
    found = net::FormatIpv4(ntohl(reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr.s_addr));
  }
  freeifaddrs(list);
  return found;
}

std::string NodeIp(client::RestClient* client, const ProxyOptions& o, const std::string& node) {
  if (!o.node_ip.empty()) return o.node_ip;
  if (auto n = client->Get(client::kNodes, "", node); n.ok()) {
    if (const api::Value* addrs = api::Find(*n, "status.addresses"); addrs && addrs->IsArray()) {
      for (const auto& a : addrs->GetArray()) {
        if (api::GetString(a, "type") == "InternalIP") return api::GetString(a, "address");
      }
    }
  }
  std::string ip = FirstGlobalAddress();
  return ip.empty() ? "127.0.0.1" : ip;
}

// Whether `ip` lies in `cidr` ("10.96.0.0/12").
bool InCidr(const std::string& ip, const std::string& cidr) {
  auto c = net::ParseIpv4Cidr(cidr);
  auto addr = net::ParseIpv4(ip);
  return c.ok() && addr.ok() && c->Contains(*addr);
}

// Reserves the cluster DNS address as the kube-system/kube-dns Service (as kubeadm's
// addon does) so that the apiserver's allocator never gives it to another Service.
void EnsureDnsService(client::RestClient* client, const std::string& ip) {
  std::string body = R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"kube-dns",)"
                     R"("namespace":"kube-system","labels":{"k8s-app":"kube-dns"}},)"
                     R"("spec":{"clusterIP":")" + ip + R"(","ports":[)"
                     R"({"name":"dns","port":53,"protocol":"UDP","targetPort":53},)"
                     R"({"name":"dns-tcp","port":53,"protocol":"TCP","targetPort":53}]}})";
  auto doc = api::ParseJson(body);
  if (!doc.ok()) return;
  if (client->Get(client::kServices, "kube-system", "kube-dns").ok()) return;
  auto r = client->Create(client::kServices, "kube-system", *doc);
  if (!r.ok() && r.status().code() != Code::kAlreadyExists) {
    LOG(WARNING) << "proxy: cannot reserve " << ip << " as kube-system/kube-dns: "
                 << r.status().ToString();
  }
}

}  // namespace

void AddFlags(FlagSet& flags, ProxyOptions* o) {
  client::AddClientFlags(flags, &o->client);
  flags.String("hostname-override", &o->hostname_override, "this node's name (default: hostname)");
  flags.String("node-ip", &o->node_ip,
               "this node's address (default: the Node's InternalIP, else the first global address)");
  flags.String("proxy-mode", &o->mode,
               "nftables or iptables (default: nftables where it works, else iptables)");
  flags.String("mode", &o->mode, "alias of --proxy-mode");
  flags.String("cluster-cidr", &o->cluster_cidr,
               "pod addresses: other sources are masqueraded; forwarding is accepted");
  flags.String("service-cidr", &o->service_cidr,
               "ClusterIP range: routed to a local bridge so nothing leaks; forwarding accepted");
  flags.String("loadbalancer-ip-range", &o->loadbalancer_ip_range,
               "addresses for LoadBalancer Services: a.b.c.d, a.b.c.d-e.f.g.h or a CIDR "
               "(default: the node's address, shared)");
  flags.Duration("min-sync-period", &o->min_sync_period,
               "at most one rules update per this period (changes are batched)");
  flags.Duration("sync-period", &o->sync_period, "period of full rewrites of the proxy's rules");
  flags.Int("healthz-port", &o->healthz_port, "port of /healthz and /metrics on 127.0.0.1 (0: off)");
  flags.Bool("cleanup", &o->cleanup, "remove every rule, route and link the proxy made, then exit");
  flags.Bool("pod-routes", &o->pod_routes,
             "route each other node's spec.podCIDR via its InternalIP (nodes on one L2 "
             "network, e.g. docker-compose; not needed when all nodes share this host)");
  flags.Bool("dns", &o->dns, "serve cluster DNS");
  flags.String("cluster-dns-address", &o->cluster_dns_address,
               "address the DNS server listens on (the kube-dns Service's ClusterIP)");
  flags.Int("dns-port", &o->dns_port, "DNS port (UDP and TCP)");
  flags.String("cluster-domain", &o->cluster_domain, "the cluster's DNS domain");
  flags.String("resolv-conf", &o->resolv_conf,
               "upstream resolvers for other names (only those on this machine are used)");
  flags.Int("ingress-http-port", &o->ingress_http_port, "Ingress HTTP port (0: off)");
  flags.Int("ingress-https-port", &o->ingress_https_port, "Ingress HTTPS port (0: off)");
  flags.String("ingress-bind-address", &o->ingress_bind_address,
               "address the Ingress listeners bind to");
  flags.String("ingress-class", &o->ingress_class,
               "IngressClass name served (Ingresses without a class too, when that "
               "IngressClass is marked default)");
  flags.String("nftables-table", &o->table, "name of the proxy's nftables table (family ip)");
  flags.String("iptables-backend", &o->iptables_backend,
               "iptables mode: \"\" runs the host's iptables, legacy/nft iptables-legacy/-nft");
  flags.String("iptables-chain-prefix", &o->iptables_prefix,
               "iptables mode: the proxy's chains are named <prefix>-*");
  flags.String("service-bridge", &o->bridge, "name of the port-less bridge holding service routes");
}

Result<std::string> ChooseProxyMode(const std::string& requested,
                                    const std::function<bool()>& nftables_works) {
  if (requested == "nftables" || requested == "iptables") return requested;
  if (!requested.empty()) {
    return BadRequest("unknown --proxy-mode " + requested + " (nftables or iptables)");
  }
  if (nftables_works()) return std::string("nftables");
  LOG(WARNING) << "proxy: nftables does not work here (`nft list tables` failed); "
                  "using iptables";
  return std::string("iptables");
}

Status Run(const ProxyOptions& o, const std::atomic<bool>* stop) {
  ASSIGN_OR_RETURN(std::string mode, ChooseProxyMode(o.mode, [] {
                     auto r = util::RunCommand({"nft", "list", "tables"});
                     return r.ok() && r->exit_code == 0;
                   }));
  if (o.iptables_backend != "" && o.iptables_backend != "legacy" && o.iptables_backend != "nft") {
    return BadRequest("unknown --iptables-backend " + o.iptables_backend + " (legacy or nft)");
  }
  RETURN_IF_ERROR(ipt::ValidatePrefix(o.iptables_prefix));

  HostNetworkConfig host;
  host.bridge = o.bridge;
  host.routed_cidrs = {o.service_cidr};
  host.forward_cidrs = {o.cluster_cidr, o.service_cidr};
  RuleConfig rules;
  rules.cluster_cidr = o.cluster_cidr;
  rules.node_name = o.hostname_override.empty() ? Hostname() : o.hostname_override;
  std::set<std::string> served_here;
  if (o.dns) {
    served_here.insert(o.cluster_dns_address);
    if (!dns::IsLocalAddress(o.cluster_dns_address) || InCidr(o.cluster_dns_address, o.service_cidr)) {
      host.local_addresses.push_back(o.cluster_dns_address);
    }
  }
  if (!o.loadbalancer_ip_range.empty()) {
    ASSIGN_OR_RETURN(IpRange r, ParseIpRange(o.loadbalancer_ip_range));
    // A CIDR range is routed locally like the service CIDR.
    std::string cidr = r.Cidr();
    if (cidr.empty() && o.loadbalancer_ip_range.find('/') != std::string::npos) {
      cidr = o.loadbalancer_ip_range;
    }
    if (!cidr.empty() && cidr.find("/32") == std::string::npos) host.routed_cidrs.push_back(cidr);
  }
  auto make_proxier = [&](const std::string& m) -> std::unique_ptr<Proxier> {
    if (m == "iptables") {
      return std::make_unique<ipt::IptablesProxier>(ipt::RenderConfig{rules, o.iptables_prefix},
                                                    o.iptables_backend, served_here);
    }
    return std::make_unique<nft::NftablesProxier>(nft::RenderConfig{rules, o.table}, served_here,
                                                  nft::NftRunner(),
                                                  std::make_shared<nft::NetlinkElementLoader>());
  };
  std::unique_ptr<Proxier> proxier = make_proxier(mode);

  if (o.cleanup) {
    Status a = proxier->Cleanup();
    // The other mode's rules too (as kube-proxy --cleanup): a proxy may have run in it
    // before. Best effort: that mode's tools may be missing here.
    std::string other_mode = mode == "iptables" ? "nftables" : "iptables";
    Status other = make_proxier(other_mode)->Cleanup();
    if (!other.ok()) VLOG(1) << "proxy: " << other_mode << " cleanup: " << other.message();
    Status b = CleanupHostNetwork(host);
    Status c = o.pod_routes ? PodRouteController::Cleanup() : Status::Ok();
    LOG(INFO) << "proxy: cleanup done";
    RETURN_IF_ERROR(a);
    RETURN_IF_ERROR(b);
    return c;
  }

  ASSIGN_OR_RETURN(http::ClientOptions client_options, client::ClientOptionsFromFlags(o.client));
  client_options.user_agent = "kube-proxy/kubepp";
  ASSIGN_OR_RETURN(auto client, client::HttpRestClient::Create(client_options));

  std::string node_ip = NodeIp(client.get(), o, rules.node_name);
  ASSIGN_OR_RETURN(IpRange lb_range,
                   ParseIpRange(o.loadbalancer_ip_range.empty() ? node_ip : o.loadbalancer_ip_range));
  RETURN_IF_ERROR(EnsureHostNetwork(host));
  LOG(INFO) << "proxy: node " << rules.node_name << " (" << node_ip << "), "
            << (mode == "iptables" ? "iptables chains " + o.iptables_prefix + "-*"
                                     : "nftables table ip " + o.table)
            << ", service CIDR " << o.service_cidr << " routed to " << o.bridge;

  Services services(client.get());
  EndpointSlices slices(client.get());
  client::EventRecorderOptions event_options;
  event_options.component = "kube-proxy";
  event_options.host = rules.node_name;
  client::EventRecorder events(client.get(), event_options);
  ServiceProxy service_proxy(
      &services, &slices, proxier.get(),
      {.min_sync_period = o.min_sync_period,
       .full_sync_period = o.sync_period,
       .flush_udp = RunConntrack,
       .warn = [&events](const Service& svc, const std::string& message) {
         events.Record(svc.Reference(), "Warning", "AddressNotProgrammed", message);
       }});
  LoadBalancerController lb(client.get(), &services, &events, lb_range);
  dns::Zone zone;
  dns::ZoneFeed feed(&services, &slices, &zone);
  std::unique_ptr<dns::Server> dns_server;
  if (o.dns) {
    dns::ServerOptions so;
    so.address = o.cluster_dns_address;
    so.port = o.dns_port;
    so.answer.domain = o.cluster_domain;
    std::ifstream rc(o.resolv_conf);
    std::stringstream text;
    text << rc.rdbuf();
    so.upstreams = dns::LocalNameservers(text.str(), dns::IsLocalAddress,
                                         {o.cluster_dns_address, o.dns_port});
    dns_server = std::make_unique<dns::Server>(so, &zone);
    RETURN_IF_ERROR(dns_server->Start());
    if (InCidr(o.cluster_dns_address, o.service_cidr)) EnsureDnsService(client.get(), o.cluster_dns_address);
  }

  std::unique_ptr<ingress::Controller> ingress_controller;
  if (o.ingress_http_port > 0 || o.ingress_https_port > 0) {
    ingress::ControllerOptions io;
    io.ingress_class = o.ingress_class;
    io.node_ip = node_ip;
    io.server.bind_address = o.ingress_bind_address;
    io.server.http_port = o.ingress_http_port;
    io.server.https_port = o.ingress_https_port;
    ingress_controller =
        std::make_unique<ingress::Controller>(client.get(), &services, &slices, &events, io);
  }

  std::unique_ptr<informer::Informer> nodes;
  std::unique_ptr<PodRouteController> pod_routes;
  if (o.pod_routes) {
    nodes = std::make_unique<informer::Informer>(client.get(), client::kNodes);
    pod_routes = std::make_unique<PodRouteController>(nodes.get(), rules.node_name);
  }

  std::unique_ptr<http::Server> healthz;
  if (o.healthz_port > 0) {
    HealthServerOptions ho;
    ho.port = o.healthz_port;
    // 503 until the rules are programmed (or after a failure), in kube-proxy's shape.
    ho.healthy = [&] { return service_proxy.Healthy(); };
    ho.body = [](bool ok) {
      return R"({"lastUpdated":")" + util::NowRfc3339() + R"(","currentTime":")" +
             util::NowRfc3339() + R"(","nodeHealthy":)" + (ok ? "true" : "false") + "}";
    };
    ASSIGN_OR_RETURN(healthz, StartHealthServer(std::move(ho)));
  }

  services.Start();
  slices.Start();
  service_proxy.Start();
  lb.Start();
  if (pod_routes) {
    nodes->Start();
    pod_routes->Start();
  }
  // Without a listener it logs why and stays idle (its informer handlers stay registered,
  // so it lives until the end like the rest).
  if (ingress_controller) ingress_controller->Start();
  if (!services.WaitForSync(kSyncTimeout) || !slices.WaitForSync(kSyncTimeout)) {
    LOG(WARNING) << "proxy: informers not synced yet; rules wait for them";
  }
  while (!stop->load()) std::this_thread::sleep_for(std::chrono::milliseconds(100));

  // The rules stay: traffic keeps flowing while the proxy restarts.
  if (healthz) healthz->Stop();
  if (dns_server) dns_server->Stop();
  if (ingress_controller) ingress_controller->Stop();
  lb.Stop();
  if (pod_routes) {
    pod_routes->Stop();
    nodes->Stop();
  }
  service_proxy.Stop();
  services.Stop();
  slices.Stop();
  return Status::Ok();
}

}  // namespace kubepp::proxy
