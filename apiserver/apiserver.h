// The apiserver: the Kubernetes REST/watch API over a Storage.
//
//   ApiServerOptions o; o.data_dir = "..."; o.port = 6443;
//   auto s = ApiServer::Start(o);   // listening when this returns
//   ... s->Stop();
//
// Two ports serve the same API. The plain HTTP port (`port`) is unauthenticated and
// belongs on loopback. The secure port (`secure_port`, off by default until every
// client speaks TLS; then HTTPS becomes the default) serves HTTPS and authenticates
// each request (authn.h). Without certificate files the secure port uses a PKI the
// server generates and keeps in <data_dir>/pki (pki.h), with an admin kubeconfig
// there (admin.kubeconfig). Secure-port requests are then authorized (rbac.h): the Node
// authorizer for kubelets (node_authorizer.h), then RBAC, by default, with the default
// roles and bindings created at start (bootstrap_policy.h); kubelets' writes pass the
// NodeRestriction admission (node_restriction.h).
// The plain port's requests act as user system:unsecured in group system:masters.
// With the secure port come service account tokens (issued through
// serviceaccounts/<name>/token, accepted as bearer tokens on the secure port, mounted
// into pods by the ServiceAccount admission); without it pods get no token volume.
// Thread safety: Start/Stop from one thread; serving happens on the server's threads.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "common/status.h"

namespace kubepp::apiserver {

struct ApiServerOptions {
  std::string bind_address = "127.0.0.1";
  int port = 6443;  // 0: any free port
  // The plain port's address when different from bind_address (upstream's
  // --insecure-bind-address): the secure port on every interface, plain HTTP on loopback.
  std::string insecure_bind_address;
  std::string data_dir = "./kubepp-data";
  std::string service_cluster_ip_range = "10.96.0.0/12";
  std::string service_node_port_range = "30000-32767";
  // Serving plain, unauthenticated HTTP on a non-loopback address is remote root on
  // every node: refused unless this is set.
  bool insecure_allow_any_address = false;
  // HTTPS (0: none). Certificate and key files, or none for the generated PKI.
  int secure_port = 0;
  std::string tls_cert_file, tls_private_key_file;
  std::string client_ca_file;    // x509 client authentication; the generated CA by default
  std::string token_auth_file;   // static bearer tokens (authn.h)
  bool anonymous_auth = true;    // secure port: unauthenticated requests are system:anonymous
  // Secure port: the authorizers, in order (rbac.h): Node (node_authorizer.h), RBAC,
  // AlwaysAllow, AlwaysDeny.
  std::string authorization_mode = "Node,RBAC";
  std::string audit_log_path;  // "" = no audit log; "-" = standard output (audit.h)
  // How the apiserver calls kubelets (pods/log): always HTTPS, with this client
  // certificate (default: the generated PKI's apiserver-kubelet-client.crt, when the
  // secure port uses the generated PKI; else none), verifying the kubelet's serving
  // certificate against kubelet_certificate_authority when one is given (else not at
  // all, as upstream).
  std::string kubelet_client_certificate, kubelet_client_key;
  std::string kubelet_certificate_authority;
  // Comma-separated admission plugins to turn off: only NodeRestriction
  // (node_restriction.h; a no-op for everyone but kubelets) can be.
  std::string disable_admission_plugins;
  // Service account tokens (serviceaccount_token.h), served with the secure port: the
  // serviceaccounts/token subresource, their authentication, token volumes for pods.
  // The signing key is sa.key (RSA 2048, made at first start) next to the generated CA
  // in <data_dir>/pki, or in <data_dir> with given certificates, unless a signing key
  // file is given; key files add verification keys (PEM private/public keys, certs).
  std::string service_account_issuer = "https://kubernetes.default.svc.cluster.local";
  std::string api_audiences;  // comma-separated; default: the issuer
  std::string service_account_signing_key_file;
  std::string service_account_key_file;  // comma-separated files
  bool service_account_extend_token_expiration = true;
  // Upstream's --encryption-provider-config (storage/encryption.h): an
  // EncryptionConfiguration file; empty: objects are stored as plain JSON.
  std::string encryption_provider_config;
  int threads = 2;
  int max_requests_inflight = 1000;
  // Per user on the secure port (user_limits.h; system:masters exempt): 0 = no limit.
  int max_requests_inflight_per_user = 400;
  double user_qps = 0;
  int user_burst = 0;
  int64_t watch_history = 10000;
  // Upstream's --event-ttl: an Event is deleted (watchers see DELETED) this long after
  // its last write, within a tenth of it more (ExpirySweeper); 0: events are kept.
  std::chrono::milliseconds event_ttl = std::chrono::hours(1);
  int min_request_timeout_seconds = 1800;  // watches without timeoutSeconds end by then
  int bookmark_interval_seconds = 60;
};

class ApiServer {
 public:
  static Result<std::unique_ptr<ApiServer>> Start(const ApiServerOptions& options);
  virtual ~ApiServer() = default;
  virtual int port() const = 0;
  virtual int secure_port() const = 0;  // 0 when not serving HTTPS
  virtual void Stop() = 0;
};

}  // namespace kubepp::apiserver
