#include "proxy/dns/zone.h"

#include <catch2/catch.hpp>

#include "proxy/testutil.h"

namespace kubepp::proxy::dns {
namespace {

using testing::Service;
using testing::Slice;

struct Fixture {
  Zone zone;
  Fixture() {
    zone.Update("ns", "web", RecordsOf(*Service("web", R"({"clusterIP":"10.96.0.5","ports":[
        {"name":"http","port":80},{"name":"dns","port":53,"protocol":"UDP"},{"port":9000}]})"), {}));
    zone.Update("ns", "db", RecordsOf(*Service("db", R"({"clusterIP":"None","ports":[{"name":"pg","port":5432}]})"),
        {Slice("db-a", "db", R"([{"name":"pg","port":5432}])",
               R"([{"addresses":["10.244.1.3"],"hostname":"db-0"},{"addresses":["10.244.1.2"]},
                   {"addresses":["10.244.1.9"],"conditions":{"ready":false}}])")}));
    zone.Update("ns", "ext", RecordsOf(*Service("ext", R"({"type":"ExternalName","externalName":"Example.ORG."})"), {}));
  }
  Message Ask(const std::string& name, uint16_t type, Disposition want = Disposition::kAnswered) {
    Message q;
    q.id = 42;
    q.recursion_desired = true;
    q.questions.push_back({name, type, kClassIN});
    Message reply;
    CHECK(Answer(q, zone, AnswerOptions{}, &reply) == want);
    CHECK(reply.id == 42);
    return reply;
  }
};

std::vector<std::string> Ips(const std::vector<Record>& rs) {
  std::vector<std::string> out;
  for (const auto& r : rs) {
    if (r.type == kA) out.push_back(Ipv4FromRdata(r.rdata));
  }
  return out;
}

TEST_CASE("Zone: ClusterIP Service A record") {
  Fixture f;
  auto r = f.Ask("web.ns.svc.cluster.local", kA);
  CHECK(r.rcode == kNoError);
  CHECK(r.authoritative);
  CHECK(Ips(r.answers) == std::vector<std::string>{"10.96.0.5"});
  CHECK(r.answers[0].ttl == 5);
}

TEST_CASE("Zone: headless Service answers ready endpoints; each endpoint has a name") {
  Fixture f;
  CHECK(Ips(f.Ask("db.ns.svc.cluster.local", kA).answers) ==
        std::vector<std::string>{"10.244.1.2", "10.244.1.3"});
  CHECK(Ips(f.Ask("db-0.db.ns.svc.cluster.local", kA).answers) == std::vector<std::string>{"10.244.1.3"});
  CHECK(Ips(f.Ask("10-244-1-2.db.ns.svc.cluster.local", kA).answers) ==
        std::vector<std::string>{"10.244.1.2"});
  CHECK(f.Ask("db-9.db.ns.svc.cluster.local", kA).rcode == kNXDomain);
}

TEST_CASE("Zone: ExternalName is a CNAME") {
  Fixture f;
  auto r = f.Ask("ext.ns.svc.cluster.local", kA);
  REQUIRE(r.answers.size() == 1);
  CHECK(r.answers[0].type == kCNAME);
  CHECK(r.answers[0].target == "example.org");
}

TEST_CASE("Zone: SRV for named ports") {
  Fixture f;
  auto r = f.Ask("_http._tcp.web.ns.svc.cluster.local", kSRV);
  REQUIRE(r.answers.size() == 1);
  CHECK(r.answers[0].port == 80);
  CHECK(r.answers[0].target == "web.ns.svc.cluster.local");
  CHECK(Ips(r.additional) == std::vector<std::string>{"10.96.0.5"});
  auto udp = f.Ask("_dns._udp.web.ns.svc.cluster.local", kSRV);
  REQUIRE(udp.answers.size() == 1);
  CHECK(udp.answers[0].port == 53);
  CHECK(f.Ask("_dns._tcp.web.ns.svc.cluster.local", kSRV).rcode == kNXDomain);
  // Headless: one per endpoint, targets are the endpoints' names.
  auto db = f.Ask("_pg._tcp.db.ns.svc.cluster.local", kSRV);
  REQUIRE(db.answers.size() == 2);
  CHECK(db.answers[0].target == "10-244-1-2.db.ns.svc.cluster.local");
  CHECK(db.answers[1].target == "db-0.db.ns.svc.cluster.local");
  CHECK(Ips(db.additional) == std::vector<std::string>{"10.244.1.2", "10.244.1.3"});
  // The Service name asked for SRV lists every named port.
  CHECK(f.Ask("web.ns.svc.cluster.local", kSRV).answers.size() == 2);
}

TEST_CASE("Zone: pod records") {
  Fixture f;
  CHECK(Ips(f.Ask("10-244-3-7.any.pod.cluster.local", kA).answers) == std::vector<std::string>{"10.244.3.7"});
  CHECK(f.Ask("10-244-3.any.pod.cluster.local", kA).rcode == kNXDomain);
  CHECK(f.Ask("999-1-1-1.any.pod.cluster.local", kA).rcode == kNXDomain);
}

TEST_CASE("Zone: NXDOMAIN and NODATA carry the SOA") {
  Fixture f;
  auto nx = f.Ask("nope.ns.svc.cluster.local", kA);
  CHECK(nx.rcode == kNXDomain);
  CHECK(nx.answers.empty());
  REQUIRE(nx.authority.size() == 1);
  CHECK(nx.authority[0].type == kSOA);
  auto nodata = f.Ask("web.ns.svc.cluster.local", kAAAA);
  CHECK(nodata.rcode == kNoError);
  CHECK(nodata.answers.empty());
  REQUIRE(nodata.authority.size() == 1);
  CHECK(f.Ask("ns.svc.cluster.local", kA).rcode == kNoError);         // a namespace with Services
  CHECK(f.Ask("other.svc.cluster.local", kA).rcode == kNXDomain);     // one without
  CHECK(f.Ask("svc.cluster.local", kA).rcode == kNoError);
  CHECK(f.Ask("a.b.c.d.e.ns.svc.cluster.local", kA).rcode == kNXDomain);
  CHECK(f.Ask("x.cluster.local", kA).rcode == kNXDomain);
  CHECK(f.Ask("cluster.local", kSOA).answers.size() == 1);
}

TEST_CASE("Zone: names outside the domain are forwarded; removed Services vanish") {
  Fixture f;
  f.Ask("example.org", kA, Disposition::kForward);
  f.Ask("notcluster.local", kA, Disposition::kForward);
  f.zone.Update("ns", "web", std::nullopt);
  CHECK(f.Ask("web.ns.svc.cluster.local", kA).rcode == kNXDomain);
  CHECK(f.zone.HasNamespace("ns"));
  f.zone.Update("ns", "db", std::nullopt);
  f.zone.Update("ns", "ext", std::nullopt);
  CHECK_FALSE(f.zone.HasNamespace("ns"));
}

TEST_CASE("Answer: malformed queries and EDNS") {
  Zone zone;
  Message q;
  Message reply;
  CHECK(Answer(q, zone, {}, &reply) == Disposition::kAnswered);
  CHECK(reply.rcode == kFormErr);
  q.questions.push_back({"web.ns.svc.cluster.local", kA, kClassIN});
  q.opcode = 2;
  Answer(q, zone, {}, &reply);
  CHECK(reply.rcode == kNotImp);
  q.opcode = 0;
  q.additional.push_back(OptRecord(4096));
  Answer(q, zone, {}, &reply);
  REQUIRE_FALSE(reply.additional.empty());
  CHECK(reply.additional.back().type == kOPT);
}

}  // namespace
}  // namespace kubepp::proxy::dns
