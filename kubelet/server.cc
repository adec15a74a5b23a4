#include "kubelet/server.h"

#include <fstream>
#include <sstream>
#include <thread>

#include "common/metrics.h"
#include "common/util/file.h"

namespace kubepp::kubelet {

namespace {

http::Response Text(int status, std::string body) {
  http::Response r;
  r.status = status;
  r.content_type = "text/plain";
  r.body = std::move(body);
  return r;
}

http::Response Error(const Status& st) {
  http::Response r;
  r.status = st.http_status();
  r.body = st.ToJson();
  return r;
}

bool Truthy(const std::string& v) { return v == "true" || v == "1"; }

// Streams `path` from `offset`, polling for growth, until the client goes away or the
// file stops being the container's current log for a while after it stopped growing.
void Follow(std::shared_ptr<http::ResponseWriter> w, std::string path, std::string initial) {
  w->StartStream(200, "text/plain");
  if (!initial.empty() && !w->WriteChunk(initial)) return;
  std::ifstream f(path, std::ios::binary);
  f.seekg(0, std::ios::end);
  std::streamoff offset = f.tellg();
  while (!w->Closed()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    std::ifstream g(path, std::ios::binary);
    if (!g) break;
    g.seekg(0, std::ios::end);
    std::streamoff size = g.tellg();
    if (size < offset) offset = 0;  // rotated or truncated
    if (size == offset) continue;
    g.seekg(offset);
    std::string chunk(static_cast<size_t>(size - offset), '\0');
    g.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    offset = size;
    if (!w->WriteChunk(std::move(chunk))) return;
  }
  w->EndStream();
}

}  // namespace

std::string TailLines(const std::string& data, int64_t tail_lines, int64_t limit_bytes) {
  std::string out = data;
  if (tail_lines >= 0) {
    // Walk back over `tail_lines` line breaks; the final '\n' ends the last line.
    size_t pos = out.size();
    size_t search = pos > 0 && out[pos - 1] == '\n' ? pos - 1 : pos;
    for (int64_t n = 0; n < tail_lines; ++n) {
      size_t nl = search == 0 ? std::string::npos : out.rfind('\n', search - 1);
      if (nl == std::string::npos) {
        pos = 0;
        break;
      }
      pos = nl + 1;
      search = nl;
    }
    out = out.substr(pos);
  }
  if (limit_bytes > 0 && static_cast<int64_t>(out.size()) > limit_bytes) {
    out.resize(static_cast<size_t>(limit_bytes));
  }
  return out;
}

Result<std::unique_ptr<http::Server>> StartKubeletServer(const KubeletServerOptions& options,
                                                         std::vector<NodeAgent*> agents) {
  if (options.auth == nullptr || options.tls_cert_file.empty() || options.tls_key_file.empty()) {
    return Internal("the kubelet server needs TLS files and an authenticator");
  }
  http::ServerOptions o;
  o.bind_address = options.address;
  o.port = options.port;
  o.threads = 2;
  o.tls_cert_file = options.tls_cert_file;
  o.tls_key_file = options.tls_key_file;
  o.client_ca_file = options.client_ca_file;
  auto serve = [agents](http::Request req, std::shared_ptr<http::ResponseWriter> w) {
    if (req.path == "/healthz" || req.path == "/livez" || req.path == "/readyz") {
      return w->Send(Text(200, "ok"));
    }
    if (req.path == "/metrics") {
      http::Response r;
      r.content_type = metrics::kContentType;
      r.body = metrics::Registry::Default().Render();
      return w->Send(std::move(r));
    }
    if (req.path == "/pods" || req.path == "/pods/") {
      std::string body = "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{},\"items\":[";
      bool first = true;
      for (NodeAgent* a : agents) {
        for (auto& p : a->Pods()) {
          body += (first ? "" : ",") + api::ToJson(*p);
          first = false;
        }
      }
      body += "]}";
      http::Response r;
      r.body = std::move(body);
      return w->Send(std::move(r));
    }
    const std::string prefix = "/containerLogs/";
    if (req.path.rfind(prefix, 0) == 0) {
      std::string rest = req.path.substr(prefix.size());
      std::vector<std::string> parts;
      size_t start = 0;
      while (start <= rest.size()) {
        size_t slash = rest.find('/', start);
        if (slash == std::string::npos) slash = rest.size();
        parts.push_back(rest.substr(start, slash - start));
        start = slash + 1;
      }
      if (parts.size() != 3 || parts[0].empty() || parts[1].empty() || parts[2].empty()) {
        return w->Send(Error(BadRequest("want /containerLogs/<namespace>/<pod>/<container>")));
      }
      bool previous = Truthy(req.Query("previous"));
      Result<std::string> path = NotFound("pod " + parts[0] + "/" + parts[1] + " not found on this kubelet");
      for (NodeAgent* a : agents) {
        auto p = a->LogPath(parts[0], parts[1], parts[2], previous);
        if (p.ok() || p.status().code() != Code::kNotFound) {
          path = std::move(p);
          break;
        }
      }
      if (!path.ok()) return w->Send(Error(path.status()));
      int64_t tail = -1, limit = 0;
      try {
        if (req.HasQuery("tailLines")) tail = std::stoll(req.Query("tailLines"));
        if (req.HasQuery("limitBytes")) limit = std::stoll(req.Query("limitBytes"));
      } catch (...) {
        return w->Send(Error(BadRequest("tailLines and limitBytes must be integers")));
      }
      auto content = util::ReadFile(*path);  // absent until the container writes
      std::string data = TailLines(content.ok() ? *content : "", tail, limit);
      if (Truthy(req.Query("follow"))) {
        std::thread(Follow, w, *path, std::move(data)).detach();
        return;
      }
      return w->Send(Text(200, std::move(data)));
    }
    w->Send(Error(NotFound("no such path " + req.path)));
  };
  std::shared_ptr<KubeletAuth> auth = options.auth;
  auto handler = [serve, auth](http::Request req, std::shared_ptr<http::ResponseWriter> w) {
    http::Response denial;
    switch (auth->CheckCached(req, &denial)) {
      case KubeletAuth::Verdict::kAllowed:
        return serve(std::move(req), std::move(w));
      case KubeletAuth::Verdict::kDenied:
        return w->Send(std::move(denial));
      case KubeletAuth::Verdict::kNeedsReview:
        break;
    }
    // A review asks the apiserver: never block an I/O thread on it.
    std::thread([serve, auth, req = std::move(req), w = std::move(w)]() mutable {
      if (auto denied = auth->Check(req)) return w->Send(std::move(*denied));
      serve(std::move(req), std::move(w));
    }).detach();
  };
  auto server = std::make_unique<http::Server>(o, handler);
  RETURN_IF_ERROR(server->Start());
  return server;
}

}  // namespace kubepp::kubelet
