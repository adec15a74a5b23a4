#include "proxy/dns/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <thread>

#include "proxy/testutil.h"

namespace kubepp::proxy::dns {
namespace {

// A UDP socket bound to 127.0.0.1 on a free port, closed on destruction.
struct UdpSocket {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  int port = 0;
  UdpSocket() {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  ~UdpSocket() { close(fd); }
  void SendTo(int to_port, const std::string& data) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(to_port));
    sendto(fd, data.data(), data.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
  }
  // "" after 5 s without a datagram; *from_port gets the sender's port.
  std::string Receive(int* from_port = nullptr) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 5000) != 1) return "";
    std::string buf(65535, '\0');
    sockaddr_in from{};
    socklen_t len = sizeof from;
    ssize_t n = recvfrom(fd, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &len);
    if (from_port) *from_port = ntohs(from.sin_port);
    buf.resize(n > 0 ? static_cast<size_t>(n) : 0);
    return buf;
  }
};

std::string Query(const std::string& name, uint16_t type, uint16_t id = 1) {
  Message m;
  m.id = id;
  m.recursion_desired = true;
  m.questions.push_back({name, type, kClassIN});
  return Encode(m);
}

std::string TcpExchange(int port, const std::string& query) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  std::string out;
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    std::string framed = {static_cast<char>(query.size() >> 8), static_cast<char>(query.size() & 0xFF)};
    framed += query;
    send(fd, framed.data(), framed.size(), 0);
    unsigned char len[2];
    if (recv(fd, len, 2, MSG_WAITALL) == 2) {
      out.resize((size_t(len[0]) << 8) | len[1]);
      if (recv(fd, out.data(), out.size(), MSG_WAITALL) != static_cast<ssize_t>(out.size())) out.clear();
    }
  }
  close(fd);
  return out;
}

struct Fixture {
  Zone zone;
  std::unique_ptr<Server> server;
  explicit Fixture(std::vector<Upstream> upstreams = {}) {
    ServiceRecords big;
    for (int i = 0; i < 60; ++i) big.backends.push_back({"10.244.0." + std::to_string(i), "h" + std::to_string(i), {}});
    zone.Update("ns", "big", big);
    zone.Update("ns", "web", RecordsOf(*testing::Service("web", R"({"clusterIP":"10.96.0.5","ports":[{"port":80}]})"), {}));
    ServerOptions o;
    o.address = "127.0.0.1";
    o.port = 0;
    o.upstreams = std::move(upstreams);
    server = std::make_unique<Server>(o, &zone);
    REQUIRE(server->Start().ok());
  }
};

TEST_CASE("Server answers over UDP and TCP; large UDP answers are truncated") {
  Fixture f;
  UdpSocket client;
  client.SendTo(f.server->udp_port(), Query("web.ns.svc.cluster.local", kA, 9));
  auto reply = Parse(client.Receive());
  REQUIRE(reply.ok());
  CHECK(reply->id == 9);
  REQUIRE(reply->answers.size() == 1);
  CHECK(Ipv4FromRdata(reply->answers[0].rdata) == "10.96.0.5");

  client.SendTo(f.server->udp_port(), Query("big.ns.svc.cluster.local", kA));
  auto cut = Parse(client.Receive());
  REQUIRE(cut.ok());
  CHECK(cut->truncated);
  CHECK(cut->answers.empty());

  auto tcp = Parse(TcpExchange(f.server->tcp_port(), Query("big.ns.svc.cluster.local", kA)));
  REQUIRE(tcp.ok());
  CHECK_FALSE(tcp->truncated);
  CHECK(tcp->answers.size() == 60);
}

TEST_CASE("Server: other names go to a local upstream, or get SERVFAIL without one") {
  SECTION("no upstream") {
    Fixture f;
    UdpSocket client;
    client.SendTo(f.server->udp_port(), Query("example.org", kA, 5));
    auto reply = Parse(client.Receive());
    REQUIRE(reply.ok());
    CHECK(reply->id == 5);
    CHECK(reply->rcode == kServFail);
  }
  SECTION("a fake upstream on loopback") {
    UdpSocket upstream;
    Fixture f({{"127.0.0.1", upstream.port}});
    std::thread fake([&] {
      int from = 0;
      std::string q = upstream.Receive(&from);
      auto m = Parse(q);
      if (!m.ok()) return;
      Message a;
      a.id = m->id;
      a.response = true;
      a.questions = m->questions;
      a.answers.push_back(ARecord("example.org", 60, "192.0.2.1"));
      upstream.SendTo(from, Encode(a));
    });
    UdpSocket client;
    client.SendTo(f.server->udp_port(), Query("example.org", kA, 6));
    auto reply = Parse(client.Receive());
    fake.join();
    REQUIRE(reply.ok());
    CHECK(reply->id == 6);
    REQUIRE(reply->answers.size() == 1);
    CHECK(Ipv4FromRdata(reply->answers[0].rdata) == "192.0.2.1");
  }
}

TEST_CASE("LocalNameservers keeps resolvers on this machine only") {
  auto is_local = [](const std::string& ip) { return ip.rfind("127.", 0) == 0 || ip == "192.0.2.2"; };
  auto ups = LocalNameservers("# c\nnameserver 10.255.255.53\nnameserver 127.0.0.53\nsearch x\n"
                              "nameserver 192.0.2.2\nnameserver ::1\nnameserver 127.0.0.10\n",
                              is_local, {"127.0.0.10", 53});
  REQUIRE(ups.size() == 2);
  CHECK(ups[0].ip == "127.0.0.53");
  CHECK(ups[1].ip == "192.0.2.2");
  CHECK(IsLocalAddress("127.0.0.1"));
  CHECK_FALSE(IsLocalAddress("not an ip"));
}

}  // namespace
}  // namespace kubepp::proxy::dns
