#include "kubelet/envvars.h"

#include <catch2/catch.hpp>

#include "kubelet/testing/test_util.h"

namespace kubepp::kubelet {
namespace {

using testing::Json;

std::string Get(const EnvList& env, const std::string& name) {
  for (auto& [k, v] : env) {
    if (k == name) return v;
  }
  return "<unset>";
}

TEST_CASE("envvars: one service as upstream's FromServices") {
  auto svc = Json(R"({"metadata":{"name":"my-db","namespace":"shop"},
    "spec":{"clusterIP":"10.96.0.20","ports":[{"port":5432},{"name":"metrics-http","port":9187,"protocol":"TCP"},
                                             {"name":"dns","port":53,"protocol":"UDP"}]}})");
  EnvList want = {
      {"MY_DB_SERVICE_HOST", "10.96.0.20"},
      {"MY_DB_SERVICE_PORT", "5432"},
      {"MY_DB_SERVICE_PORT_METRICS_HTTP", "9187"},
      {"MY_DB_SERVICE_PORT_DNS", "53"},
      {"MY_DB_PORT", "tcp://10.96.0.20:5432"},
      {"MY_DB_PORT_5432_TCP", "tcp://10.96.0.20:5432"},
      {"MY_DB_PORT_5432_TCP_PROTO", "tcp"},
      {"MY_DB_PORT_5432_TCP_PORT", "5432"},
      {"MY_DB_PORT_5432_TCP_ADDR", "10.96.0.20"},
      {"MY_DB_PORT_9187_TCP", "tcp://10.96.0.20:9187"},
      {"MY_DB_PORT_9187_TCP_PROTO", "tcp"},
      {"MY_DB_PORT_9187_TCP_PORT", "9187"},
      {"MY_DB_PORT_9187_TCP_ADDR", "10.96.0.20"},
      {"MY_DB_PORT_53_UDP", "udp://10.96.0.20:53"},
      {"MY_DB_PORT_53_UDP_PROTO", "udp"},
      {"MY_DB_PORT_53_UDP_PORT", "53"},
      {"MY_DB_PORT_53_UDP_ADDR", "10.96.0.20"},
  };
  CHECK(EnvVarsOfService(svc) == want);

  auto v6 = Json(R"({"metadata":{"name":"v6"},"spec":{"clusterIP":"fd00::10","ports":[{"port":80}]}})");
  CHECK(Get(EnvVarsOfService(v6), "V6_PORT") == "tcp://[fd00::10]:80");
  auto headless = Json(R"({"metadata":{"name":"h"},"spec":{"clusterIP":"None","ports":[{"port":80}]}})");
  CHECK(EnvVarsOfService(headless).empty());
}

TEST_CASE("envvars: which services a pod sees") {
  auto master = Json(R"({"metadata":{"name":"kubernetes","namespace":"default"},
                         "spec":{"clusterIP":"10.96.0.1","ports":[{"name":"https","port":443}]}})");
  auto other_default = Json(R"({"metadata":{"name":"web","namespace":"default"},
                                "spec":{"clusterIP":"10.96.0.5","ports":[{"port":80}]}})");
  auto mine = Json(R"({"metadata":{"name":"web","namespace":"shop"},
                       "spec":{"clusterIP":"10.96.0.9","ports":[{"port":8080}]}})");
  auto headless = Json(R"({"metadata":{"name":"db","namespace":"shop"},
                           "spec":{"clusterIP":"None","ports":[{"port":5432}]}})");
  auto shadow = Json(R"({"metadata":{"name":"kubernetes","namespace":"shop"},
                         "spec":{"clusterIP":"10.96.0.77","ports":[{"port":1}]}})");
  std::vector<const api::Value*> all = {&master, &other_default, &mine, &headless};

  auto env = ServiceEnvVars("shop", true, all);
  CHECK(Get(env, "KUBERNETES_SERVICE_HOST") == "10.96.0.1");
  CHECK(Get(env, "KUBERNETES_SERVICE_PORT_HTTPS") == "443");
  CHECK(Get(env, "WEB_SERVICE_HOST") == "10.96.0.9");  // its own namespace's, not default's
  CHECK(Get(env, "WEB_PORT") == "tcp://10.96.0.9:8080");
  CHECK(Get(env, "DB_SERVICE_HOST") == "<unset>");
  CHECK(std::is_sorted(env.begin(), env.end()));

  // enableServiceLinks: false keeps only the master service.
  env = ServiceEnvVars("shop", false, all);
  CHECK(Get(env, "KUBERNETES_SERVICE_HOST") == "10.96.0.1");
  CHECK(Get(env, "WEB_SERVICE_HOST") == "<unset>");

  // A pod in default sees default's services; one of its own namespace shadows the master.
  CHECK(Get(ServiceEnvVars("default", true, all), "WEB_SERVICE_HOST") == "10.96.0.5");
  CHECK(Get(ServiceEnvVars("shop", true, {&master, &shadow}), "KUBERNETES_SERVICE_HOST") == "10.96.0.77");
  CHECK(Get(ServiceEnvVars("shop", true, {&shadow, &master}), "KUBERNETES_SERVICE_HOST") == "10.96.0.77");
}

}  // namespace
}  // namespace kubepp::kubelet
