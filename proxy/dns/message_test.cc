#include "proxy/dns/message.h"

#include <catch2/catch.hpp>

namespace kubepp::proxy::dns {
namespace {

// A query as dig sends it: id 0xbeef, RD, one question, no EDNS.
std::string HandQuery(const std::string& name, uint16_t type) {
  std::string q = {'\xbe', '\xef', 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
  size_t start = 0;
  while (start < name.size()) {
    size_t dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    q += static_cast<char>(dot - start);
    q += name.substr(start, dot - start);
    start = dot + 1;
  }
  q += '\0';
  q += static_cast<char>(type >> 8);
  q += static_cast<char>(type & 0xFF);
  q += std::string{0, 1};
  return q;
}

TEST_CASE("Parse: a hand-built query") {
  auto m = Parse(HandQuery("Web.Default.svc.cluster.local", kA));
  REQUIRE(m.ok());
  CHECK(m->id == 0xbeef);
  CHECK(m->recursion_desired);
  CHECK_FALSE(m->response);
  REQUIRE(m->questions.size() == 1);
  CHECK(m->questions[0].name == "web.default.svc.cluster.local");  // lower-cased
  CHECK(m->questions[0].type == kA);
  CHECK(m->questions[0].klass == kClassIN);
}

TEST_CASE("Parse rejects malformed messages") {
  CHECK_FALSE(Parse("short").ok());
  std::string q = HandQuery("a.b", kA);
  CHECK_FALSE(Parse(q.substr(0, q.size() - 3)).ok());  // truncated question
  std::string loop = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, '\xc0', 12, 0, 1, 0, 1};
  CHECK_FALSE(Parse(loop).ok());  // a pointer to itself
  std::string label64 = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 64};
  CHECK_FALSE(Parse(label64 + std::string(64, 'a') + std::string{0, 0, 1, 0, 1}).ok());
}

// Found by fuzz/fuzz_dns_message: a label with a '.' in it parsed to a name that Encode
// wrote back as different labels (and "a." with an empty, terminating label), so the
// echoed question of an answer was malformed.
TEST_CASE("Parse rejects a label containing a dot") {
  std::string header = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0};
  std::string tail = {0, 0, 1, 0, 1};
  CHECK_FALSE(Parse(header + std::string{3, 'a', '.', 'b'} + tail).ok());
  CHECK_FALSE(Parse(header + std::string{2, 'a', '.'} + tail).ok());
  CHECK(Parse(header + std::string{3, 'a', '-', 'b'} + tail).ok());
}

TEST_CASE("Encode/Parse round trip with compression and typed rdata") {
  Message m;
  m.id = 7;
  m.response = true;
  m.authoritative = true;
  m.questions.push_back({"_http._tcp.web.ns.svc.cluster.local", kSRV, kClassIN});
  m.answers.push_back(SrvRecord("_http._tcp.web.ns.svc.cluster.local", 5, 0, 100, 80,
                                "web.ns.svc.cluster.local"));
  m.additional.push_back(ARecord("web.ns.svc.cluster.local", 5, "10.96.0.5"));
  m.authority.push_back(SoaRecord("cluster.local", 5));
  std::string wire = Encode(m);
  // The question's name is written once; later names point into it.
  CHECK(wire.find("cluster") == wire.rfind("cluster"));
  auto back = Parse(wire);
  REQUIRE(back.ok());
  CHECK(back->id == 7);
  CHECK(back->authoritative);
  REQUIRE(back->answers.size() == 1);
  Record srv = back->answers[0];
  REQUIRE(DecodeRdata(wire, &srv).ok());
  CHECK(srv.port == 80);
  CHECK(srv.weight == 100);
  CHECK(srv.target == "web.ns.svc.cluster.local");
  REQUIRE(back->additional.size() == 1);
  CHECK(back->additional[0].name == "web.ns.svc.cluster.local");
  CHECK(Ipv4FromRdata(back->additional[0].rdata) == "10.96.0.5");
  Record soa = back->authority[0];
  REQUIRE(DecodeRdata(wire, &soa).ok());
  CHECK(soa.target == "ns.dns.cluster.local");
  CHECK(soa.rname == "hostmaster.cluster.local");
  CHECK(soa.minimum == 5);
}

TEST_CASE("Encode truncates what does not fit: TC and no records") {
  Message m;
  m.response = true;
  m.questions.push_back({"big.ns.svc.cluster.local", kA, kClassIN});
  for (int i = 0; i < 60; ++i) {
    m.answers.push_back(ARecord("big.ns.svc.cluster.local", 5, "10.244.0." + std::to_string(i)));
  }
  std::string full = Encode(m);
  CHECK(full.size() > 512);
  std::string cut = Encode(m, 512);
  CHECK(cut.size() <= 512);
  auto back = Parse(cut);
  REQUIRE(back.ok());
  CHECK(back->truncated);
  CHECK(back->answers.empty());
  CHECK(back->questions.size() == 1);
}

}  // namespace
}  // namespace kubepp::proxy::dns
