// kubeconfig files (the format kubectl reads) and the connection flags every client
// component shares: `--kubeconfig FILE` and `--server URL`.
//
// Supported: current-context -> its cluster (server, certificate-authority[-data],
// insecure-skip-tls-verify) and user (token, tokenFile, client-certificate[-data],
// client-key[-data]). Relative file paths are relative to the kubeconfig's directory, as
// kubectl resolves them. Users with exec or auth-provider plugins, or basic auth, are
// BadRequest rather than silently unauthenticated.
//
// Thread safety: stateless functions (ClientOptionsFromFlags reads the environment).
#pragma once

#include <string>

#include "common/flags.h"
#include "common/http/client.h"
#include "common/status.h"

namespace kubepp::client {

inline constexpr const char* kDefaultServer = "http://127.0.0.1:6443";

// The current context's connection settings. A non-empty `server_override` replaces
// the cluster's server. Missing or malformed files, an unknown context, cluster or user,
// bad base64 and unreadable token files are BadRequest naming the problem.
Result<http::ClientOptions> LoadKubeconfig(const std::string& path,
                                           const std::string& server_override = "");

struct KubeconfigParams {
  std::string server;  // required
  std::string token;
  std::string ca_file;
  std::string client_cert_file, client_key_file;
  // PEM text, written base64-encoded as certificate-authority-data, client-certificate-
  // data and client-key-data (a self-contained kubeconfig); each wins over its file.
  std::string ca_data, client_cert_data, client_key_data;
  bool insecure_skip_verify = false;
  std::string name = "kubepp";  // of the cluster, user and context
  std::string ns;               // the context's default namespace, if any
};

// Writes a kubeconfig with one cluster, user and context (the current one). Creates the
// parent directory; the file is replaced atomically and readable by its owner only.
Status WriteKubeconfig(const std::string& path, const KubeconfigParams& params);

struct ClientFlags {
  std::string kubeconfig;
  std::string server;
};

// Registers --kubeconfig and --server.
void AddClientFlags(FlagSet& flags, ClientFlags* client_flags);

// --kubeconfig if given, else $KUBECONFIG (its first ':'-separated entry), else just
// the server: --server or kDefaultServer. --server overrides a kubeconfig's server.
Result<http::ClientOptions> ClientOptionsFromFlags(const ClientFlags& flags);

}  // namespace kubepp::client
