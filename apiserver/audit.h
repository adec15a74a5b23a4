// The audit log (--audit-log-path): one JSON line per request, on either port, written
// when its response status is known (for a watch or log stream: when the stream starts):
//   {"time":"2026-11-27T16:00:00.123456Z","user":"jane","groups":["system:authenticated"],
//    "verb":"list","resource":"pods","namespace":"default","name":"","code":200,
//    "uri":"/api/v1/namespaces/default/pods?limit=500","sourceIP":"127.0.0.1"}
// verb/resource/namespace/name as the authorizer sees them (rbac.h RequestAttributes;
// "resource" is "pods/log" for a subresource and the path for a non-resource request).
// It runs after authentication: requests refused with 401 are not logged. Lines are
// appended and flushed one at a time; a failing write is reported once and dropped, never
// failing the request. "-" logs to standard output.
// Thread safety: Write and the handler from WithAudit are safe from any thread.
#pragma once

#include <cstdio>
#include <memory>
#include <mutex>
#include <string>

#include "common/http/server.h"
#include "common/status.h"

namespace kubepp::apiserver {

class AuditLog {
 public:
  static Result<std::shared_ptr<AuditLog>> Open(const std::string& path);
  ~AuditLog();

  // The line for `req` answered with `code`.
  void Write(const http::Request& req, int code);

 private:
  AuditLog(std::FILE* f, bool owned) : file_(f), owned_(owned) {}
  std::mutex mu_;
  std::FILE* file_;
  bool owned_;
  bool failed_ = false;
};

// `next`, with every request written to `log` once its status is known.
http::Handler WithAudit(std::shared_ptr<AuditLog> log, http::Handler next);

}  // namespace kubepp::apiserver
