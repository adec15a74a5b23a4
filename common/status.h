// Errors as values. A Status is either OK or a failure with a Code; every Code maps to
// exactly one HTTP status and one Kubernetes `Status.reason`, so an error produced deep
// in storage can be returned to a client without translation tables elsewhere.
//
// Result<T> holds either a T or a failed Status. Both are [[nodiscard]].
// Thread safety: values; no shared state.
#pragma once

#include <cassert>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace kubepp {

enum class Code {
  kOk,
  kBadRequest,          // 400 BadRequest
  kUnauthorized,        // 401 Unauthorized
  kForbidden,           // 403 Forbidden
  kNotFound,            // 404 NotFound
  kMethodNotAllowed,    // 405 MethodNotAllowed
  kNotAcceptable,       // 406 NotAcceptable
  kAlreadyExists,       // 409 AlreadyExists
  kConflict,            // 409 Conflict
  kGone,                // 410 Gone
  kRequestTooLarge,     // 413 RequestEntityTooLarge
  kUnsupportedMedia,    // 415 UnsupportedMediaType
  kInvalid,             // 422 Invalid
  kTooManyRequests,     // 429 TooManyRequests
  kInternal,            // 500 InternalError
  kUnavailable,         // 503 ServiceUnavailable
  kTimeout,             // 504 Timeout
};

int HttpStatusOf(Code code);
std::string_view ReasonOf(Code code);  // Kubernetes StatusReason, "" for kOk
// Inverse of HttpStatusOf/ReasonOf for statuses received from a server.
Code CodeFromHttp(int http_status, std::string_view reason);

// One bad field of an Invalid request (Kubernetes StatusCause).
struct Cause {
  std::string type;     // e.g. "FieldValueRequired", "FieldValueInvalid"
  std::string message;
  std::string field;    // e.g. "spec.containers[0].image"
};

// Optional details that Kubernetes puts into Status.details.
struct StatusDetails {
  std::string name;
  std::string group;
  std::string kind;
  std::vector<Cause> causes;
  int retry_after_seconds = 0;
};

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  int http_status() const { return HttpStatusOf(code_); }
  std::string_view reason() const { return ReasonOf(code_); }

  const StatusDetails* details() const { return details_.get(); }
  StatusDetails& mutable_details();
  Status&& WithDetails(std::string name, std::string group, std::string kind) &&;

  // "NotFound: pods \"x\" not found"
  std::string ToString() const;
  // Kubernetes meta/v1 Status JSON: {"kind":"Status","apiVersion":"v1",...}.
  std::string ToJson() const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
  std::shared_ptr<StatusDetails> details_;
};

// Convenience constructors.
inline Status BadRequest(std::string m) { return Status(Code::kBadRequest, std::move(m)); }
inline Status NotFound(std::string m) { return Status(Code::kNotFound, std::move(m)); }
inline Status Conflict(std::string m) { return Status(Code::kConflict, std::move(m)); }
inline Status AlreadyExists(std::string m) { return Status(Code::kAlreadyExists, std::move(m)); }
inline Status Invalid(std::string m) { return Status(Code::kInvalid, std::move(m)); }
inline Status Internal(std::string m) { return Status(Code::kInternal, std::move(m)); }
inline Status Unavailable(std::string m) { return Status(Code::kUnavailable, std::move(m)); }
inline Status Gone(std::string m) { return Status(Code::kGone, std::move(m)); }

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    if (std::get<Status>(v_).ok()) {
      std::abort();  // a Result built from an OK Status has no value: programming error
    }
  }

  bool ok() const { return v_.index() == 0; }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(v_);
  }
  Status take_status() && { return ok() ? Status() : std::move(std::get<Status>(v_)); }

  T& value() & { return Checked(); }
  const T& value() const& { return const_cast<Result*>(this)->Checked(); }
  T&& value() && { return std::move(Checked()); }
  T* operator->() { return &Checked(); }
  const T* operator->() const { return &const_cast<Result*>(this)->Checked(); }
  T& operator*() & { return Checked(); }
  const T& operator*() const& { return const_cast<Result*>(this)->Checked(); }

 private:
  T& Checked() {
    if (!ok()) std::abort();  // value() of a failed Result: programming error
    return std::get<T>(v_);
  }
  std::variant<T, Status> v_;
};

}  // namespace kubepp

#define KUBEPP_CONCAT_INNER(a, b) a##b
#define KUBEPP_CONCAT(a, b) KUBEPP_CONCAT_INNER(a, b)

// Returns the Status from the enclosing function if `expr` (a Status) failed.
#define RETURN_IF_ERROR(expr)                      \
  do {                                             \
    ::kubepp::Status _st = (expr);                 \
    if (!_st.ok()) return _st;                     \
  } while (0)

// `ASSIGN_OR_RETURN(auto x, Foo())`: declares x from a Result or returns its Status.
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL(KUBEPP_CONCAT(_res_, __LINE__), lhs, expr)
#define ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                          \
  if (!tmp.ok()) return std::move(tmp).take_status(); \
  lhs = std::move(tmp).value()
