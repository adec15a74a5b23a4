#include "common/health_server.h"

#include "common/metrics.h"

namespace kubepp {

Result<std::unique_ptr<http::Server>> StartHealthServer(HealthServerOptions o) {
  http::ServerOptions so;
  so.bind_address = o.bind_address;
  so.port = o.port;
  so.threads = 1;
  auto server = std::make_unique<http::Server>(
      so, [o](http::Request req, std::shared_ptr<http::ResponseWriter> w) {
        http::Response resp;
        resp.content_type = "text/plain; charset=utf-8";
        if (req.path == "/healthz" || req.path == "/livez" || req.path == "/readyz") {
          bool ok = !o.healthy || o.healthy();
          resp.status = ok ? 200 : 503;
          if (o.body) {
            resp.content_type = "application/json";
            resp.body = o.body(ok);
          } else {
            resp.body = ok ? "ok" : "unhealthy";
          }
        } else if (req.path == "/metrics" && o.serve_metrics) {
          if (o.before_metrics) o.before_metrics();
          resp.content_type = metrics::kContentType;
          resp.body = metrics::Registry::Default().Render();
        } else {
          resp.status = 404;
          resp.body = "404 page not found\n";
        }
        w->Send(std::move(resp));
      });
  RETURN_IF_ERROR(server->Start());
  return server;
}

}  // namespace kubepp
