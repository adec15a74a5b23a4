// A blocking HTTP/1.1 client for the apiserver (Boost.Beast behind this header), over
// http:// or https:// (server verification by CA, client certificates, bearer token).
//
// Connections are kept alive and pooled: each call takes an idle connection or opens a
// new one, and gives it back when the exchange ended cleanly. Every connect, TLS
// handshake, write and (non-streaming) read is bounded by `timeout_seconds`; sockets use
// TCP keep-alive so a vanished peer also ends a long-lived stream.
//
// Thread safety: a Client may be used from any number of threads at once.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/http/types.h"
#include "common/status.h"

namespace kubepp::http {

struct ClientOptions {
  // "http://127.0.0.1:6443", "https://host:port"; a path after the authority
  // ("https://host/prefix") is prepended to every target.
  std::string server;
  std::string bearer_token;
  // PEM files. The *_data fields hold PEM text instead and win over the files
  // (kubeconfig's certificate-authority-data and friends).
  std::string ca_file, client_cert_file, client_key_file;
  std::string ca_data, client_cert_data, client_key_data;
  bool insecure_skip_verify = false;
  int timeout_seconds = 30;
  std::string user_agent = "kubepp";
};

// The largest response body Do() accepts, and the longest line StreamLines() buffers.
inline constexpr size_t kMaxResponseBytes = 64 << 20;

// Turns a non-2xx answer into a Status: code from the HTTP status and the Kubernetes
// Status body's `reason`, with its message and details; a body that is not a Status
// gives "the server responded with HTTP <n>: <start of body>".
Status StatusFromHttp(int http_status, std::string_view body);

class Client {
 public:
  // BadRequest on a malformed server URL or unreadable/invalid certificates or keys.
  static Result<std::unique_ptr<Client>> Create(ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  const ClientOptions& options() const;

  // One request/response exchange. Transport failures (connect, TLS, timeout, malformed
  // or oversize response) are Unavailable with the cause. An HTTP error status is not a
  // failed Result: the caller reads Response::status. `extra` headers are sent as
  // given; Accept defaults to application/json. A body is sent with `content_type`.
  Result<Response> Do(const std::string& method, const std::string& target,
                      const std::string& body = "",
                      const std::string& content_type = "application/json",
                      const Headers& extra = {});

  // A streaming GET (watch, log follow): calls `on_line` for every '\n'-terminated
  // line of the body as it arrives (without the '\n'; a final unterminated line is
  // delivered at the end). Returns OK when the server ends the stream, when on_line
  // returns false, or when `*stop` becomes true (noticed within ~200 ms; `stop` may be
  // null); StatusFromHttp for a non-2xx answer; Unavailable on transport errors. The
  // response headers are bounded by timeout_seconds, the stream itself is not.
  Status StreamLines(const std::string& target,
                     const std::function<bool(std::string_view line)>& on_line,
                     const std::atomic<bool>* stop, const Headers& extra = {});

  // A GET for a large body (registry blobs): a 2xx body is handed to `on_data` piece by
  // piece as it arrives and the Response carries status and headers with an empty body;
  // any other answer (redirects included: they are not followed) is returned with its
  // headers and the first 64 KiB of its body. Every read waits at most timeout_seconds.
  // Unavailable on transport errors, when `*stop` turns true (`stop` may be null) or when
  // on_data returns false.
  Result<Response> Download(const std::string& target,
                            const std::function<bool(std::string_view data)>& on_data,
                            const std::atomic<bool>* stop, const Headers& extra = {});

 private:
  struct Impl;
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kubepp::http
