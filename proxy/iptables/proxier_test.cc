#include "proxy/iptables/proxier.h"

#include <catch2/catch.hpp>

#include "proxy/testutil.h"

namespace kubepp::proxy::ipt {
namespace {

// Records every command; iptables-save answers `chains` (one table's listing per call),
// `-C` answers "missing", everything else succeeds unless it names `fail`.
struct FakeIptables {
  std::vector<std::string> commands;
  std::vector<std::string> inputs;
  std::string save;
  std::string fail;
  CommandRunner Runner() {
    return [this](const std::vector<std::string>& argv, std::string_view input) {
      std::string cmd;
      for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
      commands.push_back(cmd);
      inputs.emplace_back(input);
      util::CommandResult r;
      if (argv[0].ends_with("-save")) r.out = save;
      if (std::find(argv.begin(), argv.end(), "-C") != argv.end()) r.exit_code = 1;
      if (!fail.empty() && cmd.find(fail) != std::string::npos) r.exit_code = 2;
      return Result<util::CommandResult>(r);
    };
  }
  size_t Count(const std::string& part) const {
    return std::count_if(commands.begin(), commands.end(),
                         [&](const std::string& c) { return c.find(part) != std::string::npos; });
  }
};

TEST_CASE("IptablesProxier: full sync removes stale chains and adds the jumps; unchanged "
          "syncs are skipped; a removed Service's chains go") {
  FakeIptables fake;
  fake.save = "*nat\n:KUBEPP-SVC-OLDOLDOLDOLD - [0:0]\nCOMMIT\n";
  RenderConfig config;
  config.node_name = "n1";
  IptablesProxier p(config, "legacy", {"10.96.0.6"}, fake.Runner());
  Snapshot snap = testing::SampleSnapshot();
  REQUIRE(p.Sync(snap, true).ok());
  CHECK(fake.Count("iptables-legacy-save -t nat") == 1);
  REQUIRE(fake.Count("iptables-legacy-restore --noflush -w 5") == 1);
  std::string restore = fake.inputs[2];
  CHECK(restore.find("-X KUBEPP-SVC-OLDOLDOLDOLD\n") != std::string::npos);
  CHECK(restore.find("10.96.0.6") == std::string::npos);  // served locally: left alone
  CHECK(restore.find("-d 10.96.0.5/32 -p tcp -m tcp --dport 80 -j KUBEPP-SVC-") != std::string::npos);
  CHECK(fake.Count("iptables-legacy -w 5 -t nat -I PREROUTING -j KUBEPP-SERVICES") == 1);
  CHECK(fake.Count("-t filter -I FORWARD -m conntrack --ctstate NEW -j KUBEPP-SERVICES") == 1);

  size_t before = fake.commands.size();
  REQUIRE(p.Sync(snap, false).ok());
  CHECK(fake.commands.size() == before);  // nothing changed: nothing run

  Snapshot smaller = snap;
  smaller.ports.erase(smaller.ports.begin() + 1);  // "local" (ports are sorted by Id)
  REQUIRE(p.Sync(smaller, false).ok());
  REQUIRE(fake.commands.size() == before + 1);  // one restore, no listing, no jumps
  std::string removed = fake.inputs.back();
  CHECK(removed.find("-X KUBEPP-EXT-") != std::string::npos);
  CHECK(removed.find("-X KUBEPP-SVC-") != std::string::npos);
  CHECK(removed.find("10.96.0.8") == std::string::npos);
}

TEST_CASE("IptablesProxier: after a failed restore the next sync is full") {
  FakeIptables fake;
  fake.fail = "restore";
  IptablesProxier p(RenderConfig{}, "", {}, fake.Runner());
  CHECK(!p.Sync(testing::SampleSnapshot(), false).ok());
  fake.fail.clear();
  size_t saves = fake.Count("iptables-save");
  REQUIRE(p.Sync(testing::SampleSnapshot(), false).ok());
  CHECK(fake.Count("iptables-save") == saves + 2);  // listed again: nat and filter
  CHECK(fake.Count("iptables -w 5 -t nat -I OUTPUT -j KUBEPP-SERVICES") >= 1);
}

TEST_CASE("IptablesProxier: Cleanup deletes the jumps and every chain of ours") {
  FakeIptables fake;
  fake.save = "*nat\n:KUBEPP-SERVICES - [0:0]\n:KUBEPP-SVC-A - [0:0]\nCOMMIT\n";
  IptablesProxier p(RenderConfig{}, "", {}, fake.Runner());
  REQUIRE(p.Cleanup().ok());
  CHECK(fake.Count("-t nat -D PREROUTING -j KUBEPP-SERVICES") >= 1);
  std::string restore = fake.inputs.back();
  CHECK(restore.find("-X KUBEPP-SERVICES\n") != std::string::npos);
  CHECK(restore.find("-X KUBEPP-SVC-A\n") != std::string::npos);
}

}  // namespace
}  // namespace kubepp::proxy::ipt
