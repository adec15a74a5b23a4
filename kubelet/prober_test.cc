#include "kubelet/prober.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <thread>

#include "kubelet/testing/test_util.h"

namespace kubepp::kubelet {
namespace {

using testing::Json;

TEST_CASE("probes: parse with defaults and named ports") {
  auto c = Json(R"({"name":"c","ports":[{"name":"http","containerPort":8080}],
      "readinessProbe":{"httpGet":{"path":"healthz","port":"http"},"periodSeconds":3}})");
  ProbeSpec s = ParseProbe(c, *api::Find(c, "readinessProbe"));
  CHECK(s.kind == ProbeSpec::Kind::kHttpGet);
  CHECK(s.port == 8080);
  CHECK(s.path == "/healthz");
  CHECK(s.period_seconds == 3);
  CHECK(s.timeout_seconds == 1);
  CHECK(s.failure_threshold == 3);
  CHECK(s.success_threshold == 1);
  auto e = Json(R"({"exec":{"command":["cat","/tmp/ok"]}})");
  CHECK(ParseProbe(c, e).command == std::vector<std::string>{"cat", "/tmp/ok"});
  CHECK(ParseProbe(c, Json(R"({"grpc":{"port":1}})")).kind == ProbeSpec::Kind::kNone);
}

TEST_CASE("probes: thresholds decide the result") {
  ProbeSpec spec;
  spec.failure_threshold = 3;
  spec.success_threshold = 2;
  ProbeState live = InitialProbeState(ProbeType::kLiveness);
  CHECK(live.result == ProbeResult::kSuccess);
  CHECK_FALSE(RecordProbe(live, spec, false));
  CHECK_FALSE(RecordProbe(live, spec, false));
  CHECK(RecordProbe(live, spec, false));
  CHECK(live.result == ProbeResult::kFailure);
  CHECK_FALSE(RecordProbe(live, spec, true));  // one success is not enough (threshold 2)
  CHECK(RecordProbe(live, spec, true));
  CHECK(live.result == ProbeResult::kSuccess);
  CHECK(InitialProbeState(ProbeType::kReadiness).result == ProbeResult::kFailure);
  CHECK(InitialProbeState(ProbeType::kStartup).result == ProbeResult::kUnknown);
}

TEST_CASE("probes: tcp and http against a local listener") {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  REQUIRE(listen(fd, 4) == 0);
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  std::thread server([fd] {
    for (int i = 0; i < 3; ++i) {
      int c = accept(fd, nullptr, nullptr);
      if (c < 0) return;
      char buf[1024];
      ssize_t n = read(c, buf, sizeof(buf));
      std::string req(buf, n > 0 ? static_cast<size_t>(n) : 0);
      std::string resp = req.find("GET /bad") == 0 ? "HTTP/1.1 500 Oops\r\n\r\n" : "HTTP/1.1 200 OK\r\n\r\n";
      if (n > 0) (void)!write(c, resp.data(), resp.size());
      close(c);
    }
  });
  std::string msg;
  CHECK(TcpProbe("127.0.0.1", port, 1, &msg));
  CHECK(HttpGetProbe("127.0.0.1", port, "/ok", {}, 1, &msg));
  CHECK_FALSE(HttpGetProbe("127.0.0.1", port, "/bad", {}, 1, &msg));
  CHECK(msg.find("500") != std::string::npos);
  server.join();
  close(fd);
  CHECK_FALSE(TcpProbe("127.0.0.1", port, 1, &msg));  // nobody listens any more
}

}  // namespace
}  // namespace kubepp::kubelet
