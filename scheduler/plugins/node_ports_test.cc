#include "scheduler/plugins/plugins.h"
#include "scheduler/testutil.h"

using namespace kubepp::scheduler;
using namespace kubepp::scheduler::testing;

namespace {
std::string WithPort(int port, const char* protocol = "TCP", const char* ip = "") {
  return std::string(R"("initContainers":[],"containers":[{"name":"c","ports":[{"containerPort":80,"hostPort":)") +
         std::to_string(port) + R"(,"protocol":")" + protocol + "\"" +
         (*ip ? std::string(R"(,"hostIP":")") + ip + "\"" : "") + "}]}]";
}
}  // namespace

TEST_CASE("NodePorts: host ports must be free") {
  const auto plugin = plugins::NodePorts();
  const std::string busy = "node(s) didn't have free ports for the requested pod ports";
  struct Case {
    const char* name;
    std::string existing, incoming, want;
  } cases[] = {
      {"no host port", WithPort(8080), "", ""},
      {"same port", WithPort(8080), WithPort(8080), busy},
      {"other port", WithPort(8080), WithPort(8081), ""},
      {"other protocol", WithPort(8080), WithPort(8080, "UDP"), ""},
      {"distinct addresses", WithPort(8080, "TCP", "10.0.0.1"), WithPort(8080, "TCP", "10.0.0.2"), ""},
      {"wildcard vs address", WithPort(8080), WithPort(8080, "TCP", "10.0.0.2"), busy},
  };
  for (const auto& c : cases) {
    SECTION(c.name) {
      auto snap = SnapshotOf({Info(Node("n"), {BoundPod("old", "n", c.existing)})});
      CHECK(RunFilter(*plugin, *Pod("p", c.incoming), "n", snap) == c.want);
    }
  }
}
