#include "apiserver/audit.h"

#include <cerrno>
#include <cstring>

#include "apiserver/rbac.h"
#include "common/api/json.h"
#include "common/log.h"
#include "common/util/time.h"

namespace kubepp::apiserver {
namespace {

// Passes everything to the real writer and logs the status the first time one is sent.
class AuditingWriter : public http::ResponseWriter {
 public:
  AuditingWriter(std::shared_ptr<AuditLog> log, http::Request req,
                 std::shared_ptr<http::ResponseWriter> next)
      : log_(std::move(log)), req_(std::move(req)), next_(std::move(next)) {}

  void Send(http::Response response) override {
    Record(response.status);
    next_->Send(std::move(response));
  }
  void StartStream(int status, const std::string& content_type,
                   std::vector<std::pair<std::string, std::string>> headers) override {
    Record(status);
    next_->StartStream(status, content_type, std::move(headers));
  }
  bool WriteChunk(std::shared_ptr<const std::string> data) override { return next_->WriteChunk(std::move(data)); }
  void EndStream() override { next_->EndStream(); }
  bool Closed() const override { return next_->Closed(); }
  void OnClose(std::function<void()> fn) override { next_->OnClose(std::move(fn)); }

 private:
  void Record(int status) {
    std::lock_guard lock(mu_);
    if (recorded_) return;
    recorded_ = true;
    log_->Write(req_, status);
  }
  std::shared_ptr<AuditLog> log_;
  http::Request req_;  // without its body (see WithAudit)
  std::shared_ptr<http::ResponseWriter> next_;
  std::mutex mu_;
  bool recorded_ = false;
};

}  // namespace

Result<std::shared_ptr<AuditLog>> AuditLog::Open(const std::string& path) {
  if (path == "-") return std::shared_ptr<AuditLog>(new AuditLog(stdout, false));
  std::FILE* f = std::fopen(path.c_str(), "ae");
  if (f == nullptr) return BadRequest("--audit-log-path " + path + ": " + std::strerror(errno));
  return std::shared_ptr<AuditLog>(new AuditLog(f, true));
}

AuditLog::~AuditLog() {
  if (owned_) std::fclose(file_);
}

void AuditLog::Write(const http::Request& req, int code) {
  Attributes a = RequestAttributes(req);
  api::Document line;
  line.SetObject();
  auto& al = line.GetAllocator();
  api::SetString(line, "time", util::NowRfc3339Micro(), al);
  api::SetString(line, "user", req.user, al);
  api::Value groups(rapidjson::kArrayType);
  for (const auto& g : req.groups) groups.PushBack(api::Str(g, al), al);
  line.AddMember("groups", std::move(groups), al);
  api::SetString(line, "verb", a.verb, al);
  std::string resource = a.resource_request
                             ? a.resource + (a.subresource.empty() ? "" : "/" + a.subresource)
                             : a.path;
  if (a.resource_request && !a.api_group.empty()) resource += "." + a.api_group;
  api::SetString(line, "resource", resource, al);
  api::SetString(line, "namespace", a.ns, al);
  api::SetString(line, "name", a.name, al);
  api::SetInt(line, "code", code, al);
  api::SetString(line, "uri", req.target, al);
  api::SetString(line, "sourceIP", req.remote_address, al);
  std::string text = api::ToJson(line) + "\n";
  std::lock_guard lock(mu_);
  if (std::fwrite(text.data(), 1, text.size(), file_) != text.size() || std::fflush(file_) != 0) {
    if (!failed_) LOG(ERROR) << "audit log: write failed: " << std::strerror(errno) << " (lines are lost)";
    failed_ = true;
  }
}

http::Handler WithAudit(std::shared_ptr<AuditLog> log, http::Handler next) {
  return [log = std::move(log), next = std::move(next)](http::Request req,
                                                        std::shared_ptr<http::ResponseWriter> w) {
    http::Request copy;  // what the line needs: not the body
    copy.method = req.method;
    copy.target = req.target;
    copy.path = req.path;
    copy.query = req.query;
    copy.remote_address = req.remote_address;
    copy.user = req.user;
    copy.groups = req.groups;
    auto writer = std::make_shared<AuditingWriter>(log, std::move(copy), std::move(w));
    next(std::move(req), std::move(writer));
  };
}

}  // namespace kubepp::apiserver
