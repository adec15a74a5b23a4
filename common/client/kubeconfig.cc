#include "common/client/kubeconfig.h"

#include <openssl/evp.h>
#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <tuple>

#include "common/client/cert_expiry.h"
#include "common/log.h"
#include "common/util/file.h"

namespace kubepp::client {
namespace {

namespace fs = std::filesystem;

Result<std::string> Base64Decode(const std::string& in, const std::string& field) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  bool padding = false;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z') {
      v = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      v = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      v = c - '0' + 52;
    } else if (c == '+') {
      v = 62;
    } else if (c == '/') {
      v = 63;
    } else if (c == '=') {
      padding = true;
      continue;
    } else if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
      continue;
    } else {
      return BadRequest("kubeconfig: " + field + " is not valid base64");
    }
    if (padding) return BadRequest("kubeconfig: " + field + " is not valid base64");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

std::string Base64Encode(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

Result<std::string> ReadFile(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return BadRequest("kubeconfig: cannot read " + what + " " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The entry of a named list ("clusters", "users", "contexts") with this name, or an
// undefined node.
YAML::Node FindNamed(const YAML::Node& root, const char* list, const std::string& name) {
  const YAML::Node entries = root[list];
  if (entries.IsSequence()) {
    for (const auto& e : entries) {
      if (e["name"] && e["name"].as<std::string>() == name) return e;
    }
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

std::string Str(const YAML::Node& map, const char* key) {
  const YAML::Node n = map[key];
  return n && n.IsScalar() ? n.as<std::string>() : "";
}

Result<http::ClientOptions> Load(const std::string& path, const std::string& server_override) {
  YAML::Node root = YAML::LoadFile(path);
  if (!root.IsMap()) return BadRequest("kubeconfig " + path + ": not a mapping");
  fs::path dir = fs::absolute(fs::path(path)).parent_path();
  auto resolve = [&](const std::string& p) { return p.empty() ? p : (dir / p).string(); };

  std::string context_name = Str(root, "current-context");
  if (context_name.empty()) {
    const YAML::Node contexts = root["contexts"];
    if (!contexts.IsSequence() || contexts.size() != 1) {
      return BadRequest("kubeconfig " + path + ": current-context is not set");
    }
    context_name = Str(contexts[0], "name");
  }
  YAML::Node context_entry = FindNamed(root, "contexts", context_name);
  if (!context_entry) {
    return BadRequest("kubeconfig " + path + ": context \"" + context_name + "\" not found");
  }
  const YAML::Node context = context_entry["context"];
  std::string cluster_name = context ? Str(context, "cluster") : "";
  YAML::Node cluster_entry = FindNamed(root, "clusters", cluster_name);
  if (!cluster_entry) {
    return BadRequest("kubeconfig " + path + ": cluster \"" + cluster_name + "\" not found");
  }
  const YAML::Node cluster = cluster_entry["cluster"];

  http::ClientOptions o;
  o.server = server_override.empty() ? Str(cluster, "server") : server_override;
  if (o.server.empty()) {
    return BadRequest("kubeconfig " + path + ": cluster \"" + cluster_name + "\" has no server");
  }
  o.ca_file = resolve(Str(cluster, "certificate-authority"));
  if (std::string data = Str(cluster, "certificate-authority-data"); !data.empty()) {
    ASSIGN_OR_RETURN(o.ca_data, Base64Decode(data, "certificate-authority-data"));
  }
  if (const YAML::Node insecure = cluster["insecure-skip-tls-verify"]; insecure) {
    o.insecure_skip_verify = insecure.as<bool>();
  }

  std::string user_name = context ? Str(context, "user") : "";
  if (user_name.empty()) return o;
  YAML::Node user_entry = FindNamed(root, "users", user_name);
  if (!user_entry) {
    return BadRequest("kubeconfig " + path + ": user \"" + user_name + "\" not found");
  }
  const YAML::Node user = user_entry["user"];
  if (!user) return o;
  for (const char* unsupported : {"exec", "auth-provider", "username", "password"}) {
    if (user[unsupported]) {
      return BadRequest("kubeconfig " + path + ": user \"" + user_name + "\" uses " +
                        unsupported + ", which kubepp does not support");
    }
  }
  o.bearer_token = Str(user, "token");
  if (std::string token_file = Str(user, "tokenFile"); o.bearer_token.empty() && !token_file.empty()) {
    ASSIGN_OR_RETURN(std::string token, ReadFile(resolve(token_file), "tokenFile"));
    size_t end = token.find_last_not_of(" \t\r\n");
    o.bearer_token = end == std::string::npos ? "" : token.substr(0, end + 1);
  }
  o.client_cert_file = resolve(Str(user, "client-certificate"));
  o.client_key_file = resolve(Str(user, "client-key"));
  if (std::string data = Str(user, "client-certificate-data"); !data.empty()) {
    ASSIGN_OR_RETURN(o.client_cert_data, Base64Decode(data, "client-certificate-data"));
  }
  if (std::string data = Str(user, "client-key-data"); !data.empty()) {
    ASSIGN_OR_RETURN(o.client_key_data, Base64Decode(data, "client-key-data"));
  }
  return o;
}

}  // namespace

Result<http::ClientOptions> LoadKubeconfig(const std::string& path,
                                           const std::string& server_override) {
  // yaml-cpp reports missing files, syntax errors and bad conversions by throwing.
  try {
    return Load(path, server_override);
  } catch (const YAML::BadFile&) {
    return BadRequest("kubeconfig " + path + ": cannot read the file");
  } catch (const YAML::Exception& e) {
    return BadRequest("kubeconfig " + path + ": " + e.what());
  }
}

Status WriteKubeconfig(const std::string& path, const KubeconfigParams& p) {
  if (p.server.empty()) return BadRequest("WriteKubeconfig: a server is required");
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "apiVersion" << YAML::Value << "v1";
  out << YAML::Key << "kind" << YAML::Value << "Config";
  out << YAML::Key << "clusters" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << p.name;
  out << YAML::Key << "cluster" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "server" << YAML::Value << p.server;
  if (!p.ca_data.empty()) {
    out << YAML::Key << "certificate-authority-data" << YAML::Value << Base64Encode(p.ca_data);
  } else if (!p.ca_file.empty()) {
    out << YAML::Key << "certificate-authority" << YAML::Value << p.ca_file;
  }
  if (p.insecure_skip_verify) out << YAML::Key << "insecure-skip-tls-verify" << YAML::Value << true;
  out << YAML::EndMap << YAML::EndMap << YAML::EndSeq;
  out << YAML::Key << "users" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << p.name;
  out << YAML::Key << "user" << YAML::Value << YAML::BeginMap;
  if (!p.token.empty()) out << YAML::Key << "token" << YAML::Value << p.token;
  if (!p.client_cert_data.empty()) {
    out << YAML::Key << "client-certificate-data" << YAML::Value
        << Base64Encode(p.client_cert_data);
  } else if (!p.client_cert_file.empty()) {
    out << YAML::Key << "client-certificate" << YAML::Value << p.client_cert_file;
  }
  if (!p.client_key_data.empty()) {
    out << YAML::Key << "client-key-data" << YAML::Value << Base64Encode(p.client_key_data);
  } else if (!p.client_key_file.empty()) {
    out << YAML::Key << "client-key" << YAML::Value << p.client_key_file;
  }
  out << YAML::EndMap << YAML::EndMap << YAML::EndSeq;
  out << YAML::Key << "contexts" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << p.name;
  out << YAML::Key << "context" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "cluster" << YAML::Value << p.name;
  out << YAML::Key << "user" << YAML::Value << p.name;
  if (!p.ns.empty()) out << YAML::Key << "namespace" << YAML::Value << p.ns;
  out << YAML::EndMap << YAML::EndMap << YAML::EndSeq;
  out << YAML::Key << "current-context" << YAML::Value << p.name;
  out << YAML::EndMap;
  if (!out.good()) return Internal("WriteKubeconfig: " + out.GetLastError());
  std::string text = std::string(out.c_str()) + "\n";
  Status st = util::WriteFileAtomic(path, text, 0600);
  if (!st.ok()) return Internal("WriteKubeconfig: " + st.message());
  return Status::Ok();
}

void AddClientFlags(FlagSet& flags, ClientFlags* client_flags) {
  flags.String("kubeconfig", &client_flags->kubeconfig,
               "kubeconfig file with the apiserver's address and credentials "
               "(default: $KUBECONFIG, else --server without credentials)");
  flags.String("server", &client_flags->server,
               std::string("apiserver URL; overrides the kubeconfig's (default ") +
                   kDefaultServer + ")");
}

namespace {

// The expiry of the client certificate and CA a component connects with (a warning,
// never an error: the TLS handshake judges the files).
void ReportExpiries(const http::ClientOptions& o, const std::string& path) {
  for (auto [name, data, file] : {std::tuple{"client", &o.client_cert_data, &o.client_cert_file},
                                  std::tuple{"ca", &o.ca_data, &o.ca_file}}) {
    std::string pem = *data;
    if (pem.empty() && !file->empty()) {
      if (auto text = util::ReadFile(*file); text.ok()) pem = *text;
    }
    if (pem.empty()) continue;
    Status st = ReportCertificateExpiry(name, pem, file->empty() ? path : *file);
    if (!st.ok()) LOG(WARNING) << st.message();
  }
}

}  // namespace

Result<http::ClientOptions> ClientOptionsFromFlags(const ClientFlags& flags) {
  std::string path = flags.kubeconfig;
  if (path.empty()) {
    const char* env = std::getenv("KUBECONFIG");
    std::string list = env != nullptr ? env : "";
    path = list.substr(0, list.find(':'));
  }
  if (!path.empty()) {
    ASSIGN_OR_RETURN(http::ClientOptions o, LoadKubeconfig(path, flags.server));
    ReportExpiries(o, path);
    return o;
  }
  http::ClientOptions o;
  o.server = flags.server.empty() ? kDefaultServer : flags.server;
  return o;
}

}  // namespace kubepp::client
