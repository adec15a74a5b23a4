#include "kubelet/network/cni.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "kubelet/testing/test_util.h"

namespace kubepp::kubelet {
namespace {

namespace fs = std::filesystem;

// A fake CNI plugin: records its environment and stdin, answers with a result.
void FakePlugin(const std::string& bin_dir, const std::string& name, const std::string& log) {
  std::string path = bin_dir + "/" + name;
  std::ofstream f(path);
  f << "#!/bin/sh\n"
    << "in=$(cat)\n"
    << "echo \"" << name << " $CNI_COMMAND $CNI_CONTAINERID $CNI_IFNAME $CNI_NETNS $in\" >> " << log << "\n"
    << "if [ \"$CNI_COMMAND\" = ADD ]; then\n"
    << "  echo '{\"cniVersion\":\"0.4.0\",\"ips\":[{\"version\":\"4\",\"address\":\"10.244.9.5/24\"}]}'\n"
    << "fi\n";
  f.close();
  chmod(path.c_str(), 0755);
}

TEST_CASE("cni: ADD runs loopback then the list in order with prevResult, DEL in reverse") {
  testing::TempDir dir;
  std::string bin = dir.path() + "/bin", conf = dir.path() + "/net.d", log = dir.path() + "/calls";
  fs::create_directories(bin);
  fs::create_directories(conf);
  for (const char* p : {"loopback", "one", "two"}) FakePlugin(bin, p, log);
  {
    std::ofstream f(conf + "/10-test.conflist");
    f << R"({"cniVersion":"0.4.0","name":"testnet","plugins":[{"type":"one","x":1},)"
         R"({"type":"two","capabilities":{"portMappings":true}}]})";
  }
  CniNetwork cni(CniOptions{bin, conf, dir.path() + "/state", "br-test"});
  auto ip = cni.Add("abc123", "/run/netns/x", {PortMapping{"TCP", 80, 8080, ""}});
  REQUIRE(ip.ok());
  CHECK(*ip == "10.244.9.5");
  REQUIRE(cni.Del("abc123", "/run/netns/x").ok());
  std::ifstream f(log);
  std::vector<std::string> lines;
  for (std::string l; std::getline(f, l);) lines.push_back(l);
  REQUIRE(lines.size() == 5);
  CHECK(lines[0].rfind("loopback ADD abc123 lo /run/netns/x", 0) == 0);
  CHECK(lines[1].rfind("one ADD abc123 eth0 /run/netns/x", 0) == 0);
  CHECK(lines[1].find("\"name\":\"testnet\"") != std::string::npos);
  CHECK(lines[2].rfind("two ADD", 0) == 0);
  CHECK(lines[2].find("\"prevResult\"") != std::string::npos);
  CHECK(lines[2].find("\"portMappings\":[{\"hostPort\":8080,\"containerPort\":80,\"protocol\":\"tcp\"}]") !=
        std::string::npos);
  // DEL: reverse order, the namespace is gone (empty CNI_NETNS), the cached result passed.
  CHECK(lines[3].rfind("two DEL abc123 eth0  ", 0) == 0);
  CHECK(lines[3].find("10.244.9.5") != std::string::npos);
  CHECK(lines[4].rfind("one DEL", 0) == 0);
}

TEST_CASE("cni: the default network comes from the pod CIDR") {
  testing::TempDir dir;
  CniOptions o{"/nonexistent", dir.path() + "/none", dir.path() + "/state", "kubepp7"};
  CniNetwork cni(o);
  CHECK(cni.Ready().code() == Code::kUnavailable);
  cni.SetPodCidr("10.244.7.0/24");
  auto conf = api::ParseJson(DefaultConfList(o, "10.244.7.0/24"));
  REQUIRE(conf.ok());
  const auto& bridge = (*api::Find(*conf, "plugins"))[0];
  CHECK(api::GetString(bridge, "bridge") == "kubepp7");
  CHECK(api::GetString(bridge, "ipam.dataDir") == dir.path() + "/state/networks");
  CHECK(api::GetString((*api::Find(bridge, "ipam.ranges"))[0][0], "subnet") == "10.244.7.0/24");
  CHECK(cni.Ready().message().find("plugin") != std::string::npos);  // plugins missing
}

TEST_CASE("cni: leaked host-local allocations are released") {
  testing::TempDir dir;
  std::string net = dir.path() + "/state/networks/kubepp-x";
  fs::create_directories(net);
  auto alloc = [&](const std::string& ip, const std::string& owner) {
    std::ofstream f(net + "/" + ip);
    f << owner << "\r\neth0";
  };
  alloc("10.244.1.2", "live1");
  alloc("10.244.1.3", "dead1");
  { std::ofstream(net + "/last_reserved_ip.0") << "10.244.1.3"; }
  CniNetwork cni(CniOptions{"/x", "/y", dir.path() + "/state", "b"});
  CHECK(cni.ReleaseLeaked({"live1"}) == 1);
  CHECK(fs::exists(net + "/10.244.1.2"));
  CHECK_FALSE(fs::exists(net + "/10.244.1.3"));
  CHECK(fs::exists(net + "/last_reserved_ip.0"));
}

}  // namespace
}  // namespace kubepp::kubelet
