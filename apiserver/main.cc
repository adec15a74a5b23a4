// apiserver: serves the Kubernetes API from SQLite.
//   apiserver [flags]                       serve
//   apiserver backup --data-dir D --to F    online backup of a (running) server's data
//   apiserver restore --data-dir D --from F replace the data with a backup (server stopped)
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "apiserver/apiserver.h"
#include "apiserver/storage/storage.h"
#include "common/component.h"
#include "common/log.h"

namespace {

using kubepp::BadRequest;
using kubepp::NotFound;
using kubepp::Status;

// `apiserver backup|restore`: both work on the database file directly.
Status RunSubcommand(const std::string& cmd, const std::string& data_dir, const std::string& to,
                     const std::string& from) {
  std::string db = (std::filesystem::path(data_dir) / "kubepp.db").string();
  if (cmd == "backup") {
    if (to.empty()) return BadRequest("backup needs --to FILE");
    if (!std::filesystem::exists(db)) return NotFound("no database at " + db);
    RETURN_IF_ERROR(kubepp::apiserver::BackupDatabase(db, to));
    std::printf("backed up %s to %s\n", db.c_str(), to.c_str());
    return Status::Ok();
  }
  if (cmd == "restore") {
    if (from.empty()) return BadRequest("restore needs --from FILE");
    if (!std::filesystem::exists(from)) return NotFound("no backup at " + from);
    std::error_code ec;
    std::filesystem::create_directories(data_dir, ec);
    for (const char* suffix : {"-wal", "-shm"}) std::filesystem::remove(db + suffix, ec);
    RETURN_IF_ERROR(kubepp::apiserver::BackupDatabase(from, db));
    std::printf("restored %s from %s\n", db.c_str(), from.c_str());
    return Status::Ok();
  }
  return BadRequest("unknown subcommand \"" + cmd + "\" (see --help)");
}

}  // namespace

int main(int argc, char** argv) {
  using namespace kubepp;
  KeepFreedMemory(16 << 20);  // bodies of up to 3 MiB, parsed and serialized per write
  apiserver::ApiServerOptions o;
  std::string to, from;
  FlagSet flags("apiserver", "Serves the Kubernetes API (REST + watch) from SQLite.\n"
                             "Subcommands: backup --to FILE, restore --from FILE.");
  flags.String("bind-address", &o.bind_address, "address to listen on");
  flags.Int("port", &o.port, "port to listen on (plain HTTP, unauthenticated: keep it on loopback)");
  flags.String("insecure-bind-address", &o.insecure_bind_address,
               "address of the plain HTTP port (default: --bind-address)");
  flags.Int("secure-port", &o.secure_port,
            "port to serve HTTPS with authentication on (0: none; becomes the default "
            "once every component speaks TLS)");
  flags.String("tls-cert-file", &o.tls_cert_file,
               "HTTPS serving certificate (PEM, chain allowed); default: generated in "
               "<data-dir>/pki with a CA and an admin kubeconfig");
  flags.String("tls-private-key-file", &o.tls_private_key_file, "key of --tls-cert-file");
  flags.String("client-ca-file", &o.client_ca_file,
               "CA whose client certificates authenticate (CN user, O groups); default: "
               "the generated CA");
  flags.String("token-auth-file", &o.token_auth_file,
               "static bearer tokens, CSV lines token,user,uid,\"group1,group2\"");
  flags.Bool("anonymous-auth", &o.anonymous_auth,
             "secure port: unauthenticated requests act as system:anonymous (RBAC lets them "
             "read /healthz, /livez, /readyz and /version)");
  flags.String("kubelet-client-certificate", &o.kubelet_client_certificate,
               "client certificate (PEM) the apiserver presents to kubelets; default: "
               "apiserver-kubelet-client.crt of the generated PKI");
  flags.String("kubelet-client-key", &o.kubelet_client_key, "key of --kubelet-client-certificate");
  flags.String("kubelet-certificate-authority", &o.kubelet_certificate_authority,
               "CA bundle kubelets' serving certificates are verified against (default: "
               "not verified)");
  flags.String("audit-log-path", &o.audit_log_path,
               "append a JSON line per request here (user, verb, resource, code; \"-\": stdout)");
  flags.String("authorization-mode", &o.authorization_mode,
               "secure port: comma-separated authorizers, in order: Node, RBAC, "
               "AlwaysAllow, AlwaysDeny (members of system:masters are always allowed)");
  flags.String("disable-admission-plugins", &o.disable_admission_plugins,
               "admission plugins to turn off: NodeRestriction (which limits kubelets to "
               "their own Node, Lease and pods)");
  flags.String("service-account-issuer", &o.service_account_issuer,
               "iss of the service account tokens this server issues and accepts");
  flags.String("api-audiences", &o.api_audiences,
               "comma-separated audiences of the API: tokens must carry one (default: the "
               "issuer)");
  flags.String("service-account-signing-key-file", &o.service_account_signing_key_file,
               "PEM private key (RSA, or EC P-256) that signs service account tokens "
               "(default: sa.key next to the generated CA in <data-dir>/pki, or in <data-dir> "
               "with --tls-cert-file; generated at first start)");
  flags.String("service-account-key-file", &o.service_account_key_file,
               "comma-separated PEM files of further keys (public or private keys, "
               "certificates) that verify service account tokens");
  flags.Bool("service-account-extend-token-expiration", &o.service_account_extend_token_expiration,
             "issue the kubelet's token-volume tokens (3607 s) for a year, with warnafter at "
             "the requested expiry, as upstream");
  flags.String("data-dir", &o.data_dir, "directory holding the database");
  flags.String("encryption-provider-config", &o.encryption_provider_config,
               "EncryptionConfiguration file (apiserver.config.k8s.io/v1) saying how resources "
               "are encrypted at rest: aesgcm, aescbc or identity providers, the first one "
               "encrypts, all decrypt; at start, values stored otherwise are rewritten");
  flags.String("service-cluster-ip-range", &o.service_cluster_ip_range,
               "CIDR Service ClusterIPs come from");
  flags.String("service-node-port-range", &o.service_node_port_range, "range of NodePorts");
  flags.Bool("insecure-allow-any-address", &o.insecure_allow_any_address,
             "allow unauthenticated plain HTTP on a non-loopback address (dangerous)");
  flags.Int("threads", &o.threads, "HTTP worker threads");
  flags.Int("max-requests-inflight-per-user", &o.max_requests_inflight_per_user,
            "secure port: requests one user may have in progress (watches not counted; "
            "system:masters exempt; 0: no limit); more get 429");
  flags.Double("user-qps", &o.user_qps,
               "secure port: requests per second one user may average (0: no limit)");
  flags.Int("user-burst", &o.user_burst, "secure port: burst above --user-qps (0: the qps)");
  flags.Int("max-requests-inflight", &o.max_requests_inflight,
            "non-watch requests served at once; more get 429");
  flags.Int("watch-history", &o.watch_history, "revisions kept for watch resumption");
  flags.Duration("event-ttl", &o.event_ttl,
                 "how long Events are kept after their last write (0: forever)");
  flags.String("to", &to, "backup: destination file");
  flags.String("from", &from, "restore: backup file to restore");
  return RunComponent(argc, argv, flags, [&](const std::atomic<bool>* stop) -> Status {
    if (!flags.args().empty()) return RunSubcommand(flags.args()[0], o.data_dir, to, from);
    auto server = apiserver::ApiServer::Start(o);
    if (!server.ok()) return server.status();
    while (!*stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    (*server)->Stop();
    return Status::Ok();
  });
}
