#include "proxy/ingress/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

namespace kubepp::proxy::ingress {
namespace {

// A listening socket on a free loopback port, closed on destruction.
struct TakenPort {
  TakenPort() {
    fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(listen(fd, 1) == 0);
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  ~TakenPort() { close(fd); }
  int fd = -1;
  int port = 0;
};

std::shared_ptr<const Snapshot> Empty() { return std::make_shared<const Snapshot>(); }

TEST_CASE("a port that cannot be bound is left out; the other one serves") {
  TakenPort taken;
  auto cert = TlsCertificate::SelfSigned("test");
  REQUIRE(cert.ok());
  ServerOptions o;
  o.bind_address = "127.0.0.1";
  o.http_port = taken.port;
  o.https_port = 0;
  Server none(o, Empty, *cert);
  CHECK(none.Start() == 0);
  CHECK(none.http_port() == 0);

  TakenPort free_again;  // a port that is free once this socket closes
  int https = free_again.port;
  close(free_again.fd);
  free_again.fd = -1;
  o.https_port = https;
  Server one(o, Empty, *cert);
  CHECK(one.Start() == 1);
  CHECK(one.http_port() == 0);
  CHECK(one.https_port() == https);
  one.Stop();
  one.Stop();  // idempotent
}

TEST_CASE("a bad bind address is an error, not a crash") {
  ServerOptions o;
  o.bind_address = "not-an-address";
  o.http_port = 1;
  o.https_port = 0;
  Server s(o, Empty, nullptr);
  CHECK(s.Start() == 0);
}

}  // namespace
}  // namespace kubepp::proxy::ingress
