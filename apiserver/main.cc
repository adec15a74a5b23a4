// apiserver: serves the Kubernetes API from SQLite.
//   apiserver [flags]                       serve
//   apiserver backup --data-dir D --to F    online backup of a (running) server's data
//   apiserver restore --data-dir D --from F replace the data with a backup (server stopped)
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "apiserver/apiserver.h"
#include "apiserver/storage/storage.h"
#include "common/flags.h"
#include "common/log.h"

namespace {

sigset_t BlockStopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // every thread inherits the mask
  signal(SIGPIPE, SIG_IGN);
  return set;
}

int Fail(const kubepp::Status& st) {
  std::fprintf(stderr, "apiserver: %s\n", st.message().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace kubepp;
  apiserver::ApiServerOptions o;
  std::string to, from;
  FlagSet flags("apiserver", "Serves the Kubernetes API (REST + watch) from SQLite.\n"
                             "Subcommands: backup --to FILE, restore --from FILE.");
  flags.String("bind-address", &o.bind_address, "address to listen on");
  flags.Int("port", &o.port, "port to listen on (plain HTTP)");
  flags.String("data-dir", &o.data_dir, "directory holding the database");
  flags.String("service-cluster-ip-range", &o.service_cluster_ip_range,
               "CIDR Service ClusterIPs come from");
  flags.String("service-node-port-range", &o.service_node_port_range, "range of NodePorts");
  flags.Bool("insecure-allow-any-address", &o.insecure_allow_any_address,
             "allow unauthenticated plain HTTP on a non-loopback address (dangerous)");
  flags.Int("threads", &o.threads, "HTTP worker threads");
  flags.Int("max-requests-inflight", &o.max_requests_inflight,
            "non-watch requests served at once; more get 429");
  flags.Int("watch-history", &o.watch_history, "revisions kept for watch resumption");
  flags.String("to", &to, "backup: destination file");
  flags.String("from", &from, "restore: backup file to restore");
  if (auto st = flags.Parse(argc, argv); !st.ok()) return Fail(st);
  if (flags.help_requested()) {
    std::fputs(flags.Usage().c_str(), stdout);
    return 0;
  }
  std::string db = (std::filesystem::path(o.data_dir) / "kubepp.db").string();
  if (!flags.args().empty()) {
    const std::string& cmd = flags.args()[0];
    if (cmd == "backup") {
      if (to.empty()) return Fail(BadRequest("backup needs --to FILE"));
      if (!std::filesystem::exists(db)) return Fail(NotFound("no database at " + db));
      if (auto st = apiserver::BackupDatabase(db, to); !st.ok()) return Fail(st);
      std::printf("backed up %s to %s\n", db.c_str(), to.c_str());
      return 0;
    }
    if (cmd == "restore") {
      if (from.empty()) return Fail(BadRequest("restore needs --from FILE"));
      if (!std::filesystem::exists(from)) return Fail(NotFound("no backup at " + from));
      std::error_code ec;
      std::filesystem::create_directories(o.data_dir, ec);
      for (const char* suffix : {"-wal", "-shm"}) std::filesystem::remove(db + suffix, ec);
      if (auto st = apiserver::BackupDatabase(from, db); !st.ok()) return Fail(st);
      std::printf("restored %s from %s\n", db.c_str(), from.c_str());
      return 0;
    }
    return Fail(BadRequest("unknown subcommand \"" + cmd + "\" (see --help)"));
  }
  sigset_t stop_signals = BlockStopSignals();
  auto server = apiserver::ApiServer::Start(o);
  if (!server.ok()) return Fail(server.status());
  int sig = 0;
  sigwait(&stop_signals, &sig);
  LOG(INFO) << "apiserver: signal " << sig << ", shutting down";
  (*server)->Stop();
  return 0;
}
