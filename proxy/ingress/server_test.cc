#include "proxy/ingress/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <poll.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <string>
#include <thread>

#include "proxy/ingress/snapshot.h"

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

informer::ObjectPtr Obj(const std::string& json) {
  auto d = api::ParseJson(json);
  REQUIRE(d.ok());
  return std::make_shared<const api::Document>(std::move(*d));
}

// A snapshot routing every path of host "s.example.com" to 127.0.0.1:`port`.
std::shared_ptr<const Snapshot> RouteTo(int port) {
  BuildInput in;
  in.ingress_class = "kubepp";
  in.services = {ServiceOf(*Obj(R"({"metadata":{"name":"web","namespace":"ns"},)"
                               R"("spec":{"ports":[{"name":"http","port":80}]}})"))};
  in.slices = {SliceOf(*Obj(R"({"metadata":{"name":"web-x","namespace":"ns",)"
                           R"("labels":{"kubernetes.io/service-name":"web"}},"addressType":"IPv4",)"
                           R"("ports":[{"name":"http","port":)" + std::to_string(port) +
                           R"(}],"endpoints":[{"addresses":["127.0.0.1"]}]})"))};
  in.ingresses = {Obj(R"({"metadata":{"name":"ing","namespace":"ns"},"spec":{)"
                      R"("ingressClassName":"kubepp","rules":[{"host":"s.example.com","http":)"
                      R"({"paths":[{"path":"/","pathType":"Prefix","backend":{"service":)"
                      R"({"name":"web","port":{"number":80}}}}]}}]}})")};
  BuildCache cache;
  return Build(in, &cache).snapshot;
}

int ConnectTo(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  return fd;
}

void SendAll(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

// Reads from `fd` until `out` contains `want` or the peer closes; false after 10 s
// without it (a deadline against hanging, not a timing check).
bool ReadUntil(int fd, std::string& out, const std::string& want) {
  while (out.find(want) == std::string::npos) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 10000) <= 0) return false;
    char buf[65536];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return out.find(want) != std::string::npos;
    out.append(buf, static_cast<size_t>(n));
  }
  return true;
}

// The chunked framing of `body` removed (for checking what a client received).
std::string Dechunk(const std::string& wire) {
  std::string body;
  size_t pos = wire.find("\r\n\r\n") + 4;
  for (;;) {
    size_t eol = wire.find("\r\n", pos);
    size_t len = std::stoul(wire.substr(pos, eol - pos), nullptr, 16);
    if (len == 0) return body;
    body += wire.substr(eol + 2, len);
    pos = eol + 2 + len + 2;
  }
}

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

TEST_CASE("an upstream's answer is relayed as it arrives, not held until it ends") {
  // The upstream: one connection; the head and a first event, then the rest only once
  // the client has received that event through the proxy.
  TakenPort upstream;
  std::atomic<bool> client_has_first{false};
  std::string big(3 * 1024 * 1024, 'x');  // more than one relayed piece
  for (size_t i = 0; i < big.size(); i += 1000) big[i] = static_cast<char>('a' + i % 26);
  std::thread up([&] {
    int c = accept(upstream.fd, nullptr, nullptr);
    std::string req;
    REQUIRE(ReadUntil(c, req, "\r\n\r\n"));
    CHECK(req.find("GET /events HTTP/1.1") == 0);
    SendAll(c, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
               "Transfer-Encoding: chunked\r\n\r\n7\r\nfirst\n\n\r\n");
    for (int i = 0; i < 1000 && !client_has_first; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", big.size());
    SendAll(c, std::string(size) + big + "\r\n0\r\n\r\n");
    // A second request on the kept-alive connection: a Content-Length answer.
    std::string req2;
    if (ReadUntil(c, req2, "\r\n\r\n")) {
      SendAll(c, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
    }
    std::string rest;
    ReadUntil(c, rest, "never");  // until the proxy closes or the test ends
    close(c);
  });

  ServerOptions o;
  o.bind_address = "127.0.0.1";
  o.http_port = 0;
  o.https_port = 0;
  TakenPort listen_port;
  o.http_port = listen_port.port;
  close(listen_port.fd);
  listen_port.fd = -1;
  auto snapshot = RouteTo(upstream.port);
  Server server(o, [&] { return snapshot; }, nullptr);
  REQUIRE(server.Start() == 1);

  int client = ConnectTo(server.http_port());
  SendAll(client, "GET /events HTTP/1.1\r\nHost: s.example.com\r\n\r\n");
  std::string got;
  REQUIRE(ReadUntil(client, got, "first\n\n"));  // before the upstream sent the rest
  CHECK(got.find("HTTP/1.1 200") == 0);
  CHECK(got.find("Transfer-Encoding: chunked") != std::string::npos);
  client_has_first = true;
  REQUIRE(ReadUntil(client, got, "\r\n0\r\n\r\n"));
  CHECK(Dechunk(got) == "first\n\n" + big);

  // The same client connection and the pooled upstream connection serve the next one.
  SendAll(client, "GET /small HTTP/1.1\r\nHost: s.example.com\r\n\r\n");
  std::string small;
  REQUIRE(ReadUntil(client, small, "hello"));
  CHECK(small.find("Content-Length: 5\r\n") != std::string::npos);
  close(client);
  server.Stop();
  up.join();
}

}  // namespace
}  // namespace kubepp::proxy::ingress
