#include "common/status.h"

#include "common/api/json.h"

namespace kubepp {

int HttpStatusOf(Code code) {
  switch (code) {
    case Code::kOk: return 200;
    case Code::kBadRequest: return 400;
    case Code::kUnauthorized: return 401;
    case Code::kForbidden: return 403;
    case Code::kNotFound: return 404;
    case Code::kMethodNotAllowed: return 405;
    case Code::kNotAcceptable: return 406;
    case Code::kAlreadyExists: return 409;
    case Code::kConflict: return 409;
    case Code::kGone: return 410;
    case Code::kRequestTooLarge: return 413;
    case Code::kUnsupportedMedia: return 415;
    case Code::kInvalid: return 422;
    case Code::kTooManyRequests: return 429;
    case Code::kInternal: return 500;
    case Code::kUnavailable: return 503;
    case Code::kTimeout: return 504;
  }
  return 500;
}

std::string_view ReasonOf(Code code) {
  switch (code) {
    case Code::kOk: return "";
    case Code::kBadRequest: return "BadRequest";
    case Code::kUnauthorized: return "Unauthorized";
    case Code::kForbidden: return "Forbidden";
    case Code::kNotFound: return "NotFound";
    case Code::kMethodNotAllowed: return "MethodNotAllowed";
    case Code::kNotAcceptable: return "NotAcceptable";
    case Code::kAlreadyExists: return "AlreadyExists";
    case Code::kConflict: return "Conflict";
    case Code::kGone: return "Gone";
    case Code::kRequestTooLarge: return "RequestEntityTooLarge";
    case Code::kUnsupportedMedia: return "UnsupportedMediaType";
    case Code::kInvalid: return "Invalid";
    case Code::kTooManyRequests: return "TooManyRequests";
    case Code::kInternal: return "InternalError";
    case Code::kUnavailable: return "ServiceUnavailable";
    case Code::kTimeout: return "Timeout";
  }
  return "InternalError";
}

Code CodeFromHttp(int http_status, std::string_view reason) {
  if (http_status >= 200 && http_status < 300) return Code::kOk;
  if (http_status == 409) return reason == "AlreadyExists" ? Code::kAlreadyExists : Code::kConflict;
  switch (http_status) {
    case 400: return Code::kBadRequest;
    case 401: return Code::kUnauthorized;
    case 403: return Code::kForbidden;
    case 404: return Code::kNotFound;
    case 405: return Code::kMethodNotAllowed;
    case 406: return Code::kNotAcceptable;
    case 410: return Code::kGone;
    case 413: return Code::kRequestTooLarge;
    case 415: return Code::kUnsupportedMedia;
    case 422: return Code::kInvalid;
    case 429: return Code::kTooManyRequests;
    case 503: return Code::kUnavailable;
    case 504: return Code::kTimeout;
    default: return Code::kInternal;
  }
}

StatusDetails& Status::mutable_details() {
  if (!details_) details_ = std::make_shared<StatusDetails>();
  return *details_;
}

Status&& Status::WithDetails(std::string name, std::string group, std::string kind) && {
  auto& d = mutable_details();
  d.name = std::move(name);
  d.group = std::move(group);
  d.kind = std::move(kind);
  return std::move(*this);
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return std::string(reason()) + ": " + message_;
}

std::string Status::ToJson() const {
  std::string out = R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":)";
  out += ok() ? R"("Success")" : R"("Failure")";
  if (!message_.empty()) {
    out += R"(,"message":)";
    api::AppendQuoted(out, message_);
  }
  if (!ok()) {
    out += R"(,"reason":)";
    api::AppendQuoted(out, reason());
  }
  if (details_) {
    out += R"(,"details":{)";
    bool first = true;
    auto field = [&](const char* k, const std::string& v) {
      if (v.empty()) return;
      if (!first) out += ',';
      first = false;
      out += '"';
      out += k;
      out += "\":";
      api::AppendQuoted(out, v);
    };
    field("name", details_->name);
    field("group", details_->group);
    field("kind", details_->kind);
    if (!details_->causes.empty()) {
      if (!first) out += ',';
      first = false;
      out += R"("causes":[)";
      for (size_t i = 0; i < details_->causes.size(); ++i) {
        const Cause& c = details_->causes[i];
        if (i) out += ',';
        out += R"({"reason":)";
        api::AppendQuoted(out, c.type);
        out += R"(,"message":)";
        api::AppendQuoted(out, c.message);
        out += R"(,"field":)";
        api::AppendQuoted(out, c.field);
        out += '}';
      }
      out += ']';
    }
    if (details_->retry_after_seconds > 0) {
      if (!first) out += ',';
      out += R"("retryAfterSeconds":)" + std::to_string(details_->retry_after_seconds);
    }
    out += '}';
  }
  out += R"(,"code":)" + std::to_string(http_status()) + "}";
  return out;
}

}  // namespace kubepp
