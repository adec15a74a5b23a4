// An asynchronous HTTP/1.1 server (Boost.Beast behind this header). Handlers never
// touch sockets: they get a parsed Request and a ResponseWriter, and may answer later
// from any thread (a write waiting on a group commit answers from the storage thread).
//
// Every read has a timeout and a size limit; keep-alive is supported; a response may be
// a whole body or a chunked stream (watch, log follow).
//
// With a certificate and key the server speaks only HTTPS (TLS 1.2+). With a client CA
// too, it asks for a client certificate: a certificate that does not verify fails the
// handshake, none at all is allowed (the request may still carry a token), and a
// verified one's subject is on Request::peer_cn / peer_orgs.
// Thread safety: Server methods are safe from any thread; handlers run on the server's
// I/O threads and must not block.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/http/types.h"
#include "common/status.h"

namespace kubepp::http {

// The answering half of one request. Thread-safe; every call after the connection is
// gone is a no-op. Exactly one of Send() or StartStream()...EndStream() per request.
// A writer must not outlive the Server that made it (it holds the connection's socket).
class ResponseWriter {
 public:
  virtual ~ResponseWriter() = default;
  virtual void Send(Response response) = 0;
  // Starts a chunked response. `headers` as in Response.
  virtual void StartStream(int status, const std::string& content_type,
                           std::vector<std::pair<std::string, std::string>> headers = {}) = 0;
  // Sends one chunk. Returns false when the connection is gone or the client is too
  // slow (more than the stream buffer limit queued): the caller should stop streaming.
  // `data` is only read, never copied, so one string can be shared by many streams (a
  // watch event fanned out to every watcher). Over plain HTTP a chunk with nothing
  // queued before it is written at once from the calling thread, without a hand-off
  // to the connection's I/O thread.
  virtual bool WriteChunk(std::shared_ptr<const std::string> data) = 0;
  bool WriteChunk(std::string data) {
    return WriteChunk(std::make_shared<const std::string>(std::move(data)));
  }
  // Ends the stream (zero chunk); the connection then serves the next request.
  virtual void EndStream() = 0;
  // Whether the peer has gone away.
  virtual bool Closed() const = 0;
  // Called once, on an I/O thread, when the connection closes (immediately if it has).
  virtual void OnClose(std::function<void()> fn) = 0;
};

using Handler = std::function<void(Request, std::shared_ptr<ResponseWriter>)>;

struct ServerOptions {
  std::string bind_address = "127.0.0.1";
  int port = 0;                      // 0 picks a free port (see Server::port())
  int threads = 2;
  size_t max_header_bytes = 64 * 1024;
  size_t max_body_bytes = 3 * 1024 * 1024;
  int read_timeout_seconds = 60;     // for a whole request once its first byte came
  int idle_timeout_seconds = 120;    // keep-alive connection with no request
  int write_timeout_seconds = 60;
  size_t max_stream_buffer_bytes = 32 * 1024 * 1024;  // per streaming response
  int max_inflight = 1000;           // non-streaming requests in progress; more get 429
  // PEM files; a certificate and key make the server HTTPS-only. The certificate file
  // may hold the chain (leaf first). Read once, by Start().
  std::string tls_cert_file, tls_key_file;
  std::string client_ca_file;        // verifies client certificates (optional ones)
};

class Server {
 public:
  Server(ServerOptions options, Handler handler);
  ~Server();  // stops and joins
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Loads the TLS files (BadRequest naming a bad one), binds and listens; the threads
  // start serving.
  Status Start();
  // Stops accepting, closes connections, joins the threads. Idempotent.
  void Stop();
  int port() const;

  struct Impl;  // public only so the implementation's sessions can name it

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace kubepp::http
