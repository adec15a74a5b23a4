#include "proxy/pod_routes.h"

#include <algorithm>
#include <set>
#include <sstream>

#include "common/log.h"
#include "common/net/ipv4.h"
#include "common/util/exec.h"
#include "proxy/dns/server.h"

namespace kubepp::proxy {
namespace {

constexpr char kKey[] = "routes";  // one key: every sync computes the whole table

std::string InternalIp(const api::Value& node) {
  const api::Value* addrs = api::Find(node, "status.addresses");
  if (!addrs || !addrs->IsArray()) return "";
  for (const auto& a : addrs->GetArray()) {
    if (api::GetString(a, "type") == "InternalIP") return api::GetString(a, "address");
  }
  return "";
}

Status Ip(const std::vector<std::string>& argv) {
  std::vector<std::string> full = {"ip"};
  full.insert(full.end(), argv.begin(), argv.end());
  ASSIGN_OR_RETURN(util::CommandResult r, util::RunCommand(full));
  if (r.exit_code != 0) {
    std::string cmd;
    for (const auto& a : full) cmd += (cmd.empty() ? "" : " ") + a;
    return Internal(cmd + ": " + r.err);
  }
  return Status::Ok();
}

Result<std::vector<PodRoute>> CurrentRoutes() {
  ASSIGN_OR_RETURN(util::CommandResult r,
                   util::RunCommand({"ip", "-4", "route", "show", "proto",
                                     std::to_string(kPodRouteProtocol)}));
  if (r.exit_code != 0) return Internal("ip route show: " + r.err);
  return ParseRoutes(r.out);
}

}  // namespace

std::vector<PodRoute> DesiredPodRoutes(const std::vector<informer::ObjectPtr>& nodes,
                                       const std::string& self,
                                       const std::function<bool(const std::string&)>& is_local) {
  std::vector<PodRoute> routes;
  for (const auto& n : nodes) {
    if (api::GetString(*n, "metadata.name") == self) continue;
    std::string cidr = api::GetString(*n, "spec.podCIDR");
    std::string ip = InternalIp(*n);
    if (cidr.empty() || ip.empty() || !net::ParseIpv4Cidr(cidr).ok() || !net::ParseIpv4(ip).ok()) {
      continue;
    }
    if (is_local(ip)) continue;
    routes.push_back({cidr, ip});
  }
  std::sort(routes.begin(), routes.end());
  return routes;
}

std::vector<PodRoute> ParseRoutes(const std::string& out) {
  std::vector<PodRoute> routes;
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    PodRoute r;
    std::string w;
    words >> r.cidr;
    while (words >> w) {
      if (w == "via") words >> r.via;
    }
    // `ip` prints a /32 route without its length.
    if (!r.cidr.empty() && r.cidr.find('/') == std::string::npos) r.cidr += "/32";
    if (!r.cidr.empty()) routes.push_back(std::move(r));
  }
  return routes;
}

PodRouteController::PodRouteController(informer::Informer* nodes, std::string self)
    : nodes_(nodes), self_(std::move(self)) {
  auto enqueue = [this](const informer::ObjectPtr&) { queue_.Add(kKey); };
  nodes_->AddEventHandler(
      {enqueue, [enqueue](const informer::ObjectPtr&, const informer::ObjectPtr& n) { enqueue(n); },
       enqueue});
}

PodRouteController::~PodRouteController() { Stop(); }

void PodRouteController::Start() {
  worker_ = std::thread([this] {
    std::string key;
    while (queue_.Get(&key)) {
      Status st = Sync();
      if (st.ok()) {
        queue_.Forget(key);
      } else {
        LOG(WARNING) << "proxy: pod routes: " << st.ToString();
        queue_.AddRateLimited(key);
      }
      queue_.Done(key);
    }
  });
}

void PodRouteController::Stop() {
  queue_.ShutDown();
  if (worker_.joinable()) worker_.join();
}

Status PodRouteController::Sync() {
  if (!nodes_->HasSynced()) return Unavailable("nodes not listed yet");
  std::vector<PodRoute> want = DesiredPodRoutes(nodes_->List(), self_, dns::IsLocalAddress);
  ASSIGN_OR_RETURN(std::vector<PodRoute> have, CurrentRoutes());
  std::set<PodRoute> wanted(want.begin(), want.end());
  std::set<std::string> wanted_cidrs;
  for (const auto& r : want) wanted_cidrs.insert(r.cidr);
  Status result;
  for (const auto& r : have) {
    if (wanted.count(r) || wanted_cidrs.count(r.cidr)) continue;  // kept, or replaced below
    Status st = Ip({"route", "del", r.cidr, "proto", std::to_string(kPodRouteProtocol)});
    if (!st.ok()) result = st;
    else LOG(INFO) << "proxy: removed pod route " << r.cidr << " via " << r.via;
  }
  std::set<PodRoute> present(have.begin(), have.end());
  for (const auto& r : want) {
    if (present.count(r)) continue;
    Status st = Ip({"route", "replace", r.cidr, "via", r.via, "proto",
                    std::to_string(kPodRouteProtocol)});
    if (!st.ok()) result = st;
    else LOG(INFO) << "proxy: pod route " << r.cidr << " via " << r.via;
  }
  return result;
}

Status PodRouteController::Cleanup() {
  ASSIGN_OR_RETURN(std::vector<PodRoute> have, CurrentRoutes());
  for (const auto& r : have) {
    RETURN_IF_ERROR(Ip({"route", "del", r.cidr, "proto", std::to_string(kPodRouteProtocol)}));
  }
  return Status::Ok();
}

}  // namespace kubepp::proxy
