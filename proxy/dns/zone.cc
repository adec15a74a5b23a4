#include "proxy/dns/zone.h"

#include <arpa/inet.h>

#include <algorithm>
#include <set>

#include "common/util/strings.h"

namespace kubepp::proxy::dns {
namespace {

std::vector<std::string> Split(const std::string& name) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= name.size()) {
    size_t dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    out.push_back(name.substr(start, dot - start));
    start = dot + 1;
  }
  return out;
}

std::string Dashed(std::string ip) {
  std::replace(ip.begin(), ip.end(), '.', '-');
  return ip;
}

}  // namespace

ServiceRecords RecordsOf(const Service& svc, const std::vector<SlicePtr>& slices) {
  ServiceRecords r;
  if (svc.type == Service::Type::kExternalName) {
    r.external_name = util::AsciiLower(svc.external_name);
    while (!r.external_name.empty() && r.external_name.back() == '.') r.external_name.pop_back();
    return r;
  }
  for (const auto& p : svc.ports) r.ports.push_back({p.name, p.protocol, p.port});
  if (!svc.cluster_ip.empty() && svc.cluster_ip != "None") {
    r.cluster_ip = svc.cluster_ip;
    return r;
  }
  std::set<uint32_t> seen;
  for (const auto& slice : slices) {
    if (!slice->ipv4) continue;
    std::vector<ServiceRecords::Port> ports;
    for (const auto& p : slice->ports) ports.push_back({p.name, p.protocol, p.port});
    for (size_t i = 0; i < slice->endpoints.size(); ++i) {
      const SliceEndpoint& e = slice->endpoints[i];
      if (!e.ready || !seen.insert(e.address).second) continue;
      std::string addr = e.ip();
      std::string host = util::AsciiLower(slice->Hostname(i));
      r.backends.push_back({addr, host.empty() ? Dashed(addr) : host, ports});
    }
  }
  std::sort(r.backends.begin(), r.backends.end(),
            [](const auto& a, const auto& b) { return a.ip < b.ip; });
  return r;
}

void Zone::Update(const std::string& ns, const std::string& name, std::optional<ServiceRecords> r) {
  std::lock_guard lock(mu_);
  std::string key = ns + "/" + name;
  auto it = services_.find(key);
  if (r) {
    if (it == services_.end()) ++namespaces_[ns];
    services_[key] = std::make_shared<const ServiceRecords>(std::move(*r));
  } else if (it != services_.end()) {
    services_.erase(it);
    if (--namespaces_[ns] == 0) namespaces_.erase(ns);
  }
}

std::shared_ptr<const ServiceRecords> Zone::Find(const std::string& ns,
                                                 const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = services_.find(ns + "/" + name);
  return it == services_.end() ? nullptr : it->second;
}

bool Zone::HasNamespace(const std::string& ns) const {
  std::lock_guard lock(mu_);
  return namespaces_.count(ns) > 0;
}

namespace {

// Builds the answer for one name inside the domain.
class Answerer {
 public:
  Answerer(const Zone& zone, const AnswerOptions& o, const Question& q, Message* reply)
      : zone_(zone), o_(o), q_(q), reply_(reply) {}

  void Run(const std::vector<std::string>& rel) {  // labels left of the domain
    size_t n = rel.size();
    if (n == 0) {  // the apex
      if (q_.type == kSOA || q_.type == kANY) {
        reply_->answers.push_back(SoaRecord(o_.domain, o_.ttl));
        return;
      }
      return NoData();
    }
    if (rel[n - 1] == "svc") return Svc(rel);
    if (rel[n - 1] == "pod") return Pod(rel);
    NxDomain();
  }

 private:
  bool Wants(uint16_t type) const { return q_.type == type || q_.type == kANY; }

  void NxDomain() {
    reply_->rcode = kNXDomain;
    reply_->authority.push_back(SoaRecord(o_.domain, o_.ttl));
  }
  void NoData() {
    if (reply_->answers.empty()) reply_->authority.push_back(SoaRecord(o_.domain, o_.ttl));
  }
  void AddA(const std::string& name, const std::string& ip, std::vector<Record>* section) {
    section->push_back(ARecord(name, o_.ttl, ip));
  }

  void Svc(const std::vector<std::string>& rel) {
    size_t n = rel.size();
    if (n == 1) return NoData();
    if (n == 2) return zone_.HasNamespace(rel[0]) ? NoData() : NxDomain();
    auto svc = zone_.Find(rel[n - 2], rel[n - 3]);
    if (!svc) return NxDomain();
    const std::string svc_name = rel[n - 3] + "." + rel[n - 2] + ".svc." + o_.domain;
    if (n == 3) return Service(*svc, svc_name);
    if (n == 4) return Endpoint(*svc, rel[0]);
    if (n == 5 && rel[0].size() > 1 && rel[0][0] == '_' && rel[1].size() > 1 && rel[1][0] == '_') {
      return Srv(*svc, svc_name, rel[0].substr(1), rel[1].substr(1));
    }
    NxDomain();
  }

  void Service(const ServiceRecords& s, const std::string& svc_name) {
    if (!s.external_name.empty()) {
      reply_->answers.push_back(CnameRecord(q_.name, o_.ttl, s.external_name));
      return;
    }
    if (Wants(kA)) {
      if (!s.cluster_ip.empty()) AddA(q_.name, s.cluster_ip, &reply_->answers);
      for (const auto& b : s.backends) AddA(q_.name, b.ip, &reply_->answers);
    }
    if (Wants(kSRV)) {
      for (const auto& p : s.ports) {
        if (p.name.empty()) continue;
        AddSrv(s, svc_name, p.name, p.protocol);
      }
    }
    NoData();
  }

  void Endpoint(const ServiceRecords& s, const std::string& host) {
    for (const auto& b : s.backends) {
      if (b.hostname != host && Dashed(b.ip) != host) continue;
      if (Wants(kA)) AddA(q_.name, b.ip, &reply_->answers);
      return NoData();
    }
    NxDomain();
  }

  void Srv(const ServiceRecords& s, const std::string& svc_name, const std::string& port,
           const std::string& proto) {
    bool found = false;
    for (const auto& p : s.ports) found |= p.name == port && p.protocol == proto;
    if (!found) return NxDomain();
    if (Wants(kSRV)) AddSrv(s, svc_name, port, proto);
    NoData();
  }

  // SRV records of the named port, answered for the question's name.
  void AddSrv(const ServiceRecords& s, const std::string& svc_name, const std::string& port,
              const std::string& proto) {
    if (!s.cluster_ip.empty()) {
      for (const auto& p : s.ports) {
        if (p.name != port || p.protocol != proto) continue;
        reply_->answers.push_back(SrvRecord(q_.name, o_.ttl, 0, 100, static_cast<uint16_t>(p.port), svc_name));
        AddA(svc_name, s.cluster_ip, &reply_->additional);
      }
      return;
    }
    for (const auto& b : s.backends) {
      for (const auto& p : b.ports) {
        if (p.name != port || p.protocol != proto) continue;
        std::string target = b.hostname + "." + svc_name;
        reply_->answers.push_back(SrvRecord(q_.name, o_.ttl, 0, 100, static_cast<uint16_t>(p.port), target));
        AddA(target, b.ip, &reply_->additional);
      }
    }
  }

  void Pod(const std::vector<std::string>& rel) {
    if (rel.size() == 1) return NoData();
    if (rel.size() == 2) return NoData();  // <ns>.pod exists for every namespace
    if (rel.size() != 3) return NxDomain();
    std::string ip = rel[0];
    std::replace(ip.begin(), ip.end(), '-', '.');
    in_addr a{};
    if (std::count(ip.begin(), ip.end(), '.') != 3 || inet_pton(AF_INET, ip.c_str(), &a) != 1) {
      return NxDomain();
    }
    if (Wants(kA)) AddA(q_.name, ip, &reply_->answers);
    NoData();
  }

  const Zone& zone_;
  const AnswerOptions& o_;
  const Question& q_;
  Message* reply_;
};

}  // namespace

Disposition Answer(const Message& query, const Zone& zone, const AnswerOptions& options,
                   Message* reply) {
  *reply = Message{};
  reply->id = query.id;
  reply->response = true;
  reply->opcode = query.opcode;
  reply->recursion_desired = query.recursion_desired;
  reply->recursion_available = true;
  reply->questions = query.questions;
  for (const auto& r : query.additional) {
    // EDNS: tell the client the payload size we accept.
    if (r.type == kOPT) reply->additional.push_back(OptRecord(1232));
  }
  if (query.opcode != 0) {
    reply->rcode = kNotImp;
    return Disposition::kAnswered;
  }
  if (query.response || query.questions.size() != 1) {
    reply->rcode = kFormErr;
    return Disposition::kAnswered;
  }
  const Question& q = query.questions[0];
  const std::string& d = options.domain;
  std::string rel;
  if (q.name == d) {
    rel = "";
  } else if (q.name.size() > d.size() && q.name.compare(q.name.size() - d.size(), d.size(), d) == 0 &&
             q.name[q.name.size() - d.size() - 1] == '.') {
    rel = q.name.substr(0, q.name.size() - d.size() - 1);
  } else {
    return Disposition::kForward;
  }
  reply->authoritative = true;
  if (q.klass != kClassIN && q.klass != kANY) {
    reply->rcode = kNotImp;
    return Disposition::kAnswered;
  }
  // The OPT record, if any, goes last: keep it after the records the answerer adds.
  std::vector<Record> opt = std::move(reply->additional);
  reply->additional.clear();
  Answerer(zone, options, q, reply).Run(rel.empty() ? std::vector<std::string>{} : Split(rel));
  for (auto& r : opt) reply->additional.push_back(std::move(r));
  return Disposition::kAnswered;
}

}  // namespace kubepp::proxy::dns
