// The Ingress reverse proxy: the only translation unit of proxy/ with Beast (slow to
// compile; keep it that way).
#include <utility>

#include "proxy/ingress/server.h"

#include <openssl/ssl.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <array>
#include <deque>
#include <limits>
#include <optional>
#include <random>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/log.h"

namespace kubepp::proxy::ingress {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
// Streams bound to the concrete io_context executor: the type-erased any_io_executor of
// beast::tcp_stream costs a copy and a destroy per operation on the hot path.
using Executor = asio::io_context::executor_type;
using Socket = asio::basic_stream_socket<tcp, Executor>;
using TcpStream = beast::basic_stream<tcp, Executor, beast::unlimited_rate_policy>;
using PlainStream = TcpStream;
using TlsStream = beast::ssl_stream<TcpStream>;
using SteadyClock = std::chrono::steady_clock;

namespace {

// The most of an upstream's body read before it is relayed to the client.
constexpr size_t kPieceBytes = 64 * 1024;

// One kept-alive connection to an endpoint.
struct UpstreamConn {
  explicit UpstreamConn(Executor ex) : stream(std::move(ex)) {}
  TcpStream stream;
  beast::flat_buffer buffer;
  SteadyClock::time_point idle_since;
};

std::string RequestId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(32, '0');
  for (int half = 0; half < 2; ++half) {
    uint64_t v = rng();
    for (int i = 0; i < 16; ++i, v >>= 4) out[half * 16 + 15 - i] = kHex[v & 0xf];
  }
  return out;
}

bool IsHopByHop(beast::string_view name) {
  static const char* kNames[] = {"connection", "keep-alive", "proxy-connection", "te", "trailer",
                                 "transfer-encoding", "upgrade", "proxy-authenticate",
                                 "proxy-authorization"};
  for (const char* n : kNames) {
    if (beast::iequals(name, n)) return true;
  }
  return false;
}

// Removes hop-by-hop headers, including those the Connection header names.
template <class Fields>
void StripHopByHop(Fields& fields) {
  std::vector<std::string> named;
  auto [first, last] = fields.equal_range(bhttp::field::connection);
  for (auto it = first; it != last; ++it) {
    std::string v(it->value());
    size_t start = 0;
    while (start <= v.size()) {
      size_t comma = v.find(',', start);
      std::string token = v.substr(start, comma == std::string::npos ? std::string::npos
                                                                      : comma - start);
      token.erase(0, token.find_first_not_of(" \t"));
      token.erase(token.find_last_not_of(" \t") + 1);
      if (!token.empty()) named.push_back(token);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  for (const auto& n : named) fields.erase(n);
  for (auto it = fields.begin(); it != fields.end();) {
    it = IsHopByHop(it->name_string()) ? fields.erase(it) : std::next(it);
  }
}

// The start line and header fields of a message as wire text, ending in the blank line;
// the body goes out as a second buffer. Beast's serializer walks the fields as a chain of
// many small buffers, which cost more than this copy for the small heads an ingress
// relays (it was the largest user-space cost per proxied request).
void AppendFields(std::string& out, const bhttp::fields& fields) {
  for (const auto& f : fields) {
    out.append(f.name_string().data(), f.name_string().size());
    out.append(": ");
    out.append(f.value().data(), f.value().size());
    out.append("\r\n");
  }
  out.append("\r\n");
}

void SerializeHead(const bhttp::request<bhttp::string_body>& req, std::string& out) {
  out.clear();
  out.append(req.method_string().data(), req.method_string().size());
  out.push_back(' ');
  out.append(req.target().data(), req.target().size());
  out.append(req.version() == 10 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n");
  AppendFields(out, req.base());
}

void SerializeHead(const bhttp::response_header<>& res, std::string& out) {
  out.clear();
  out.append(res.version() == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
  out.append(std::to_string(res.result_int()));
  out.push_back(' ');
  out.append(res.reason().data(), res.reason().size());
  out.append("\r\n");
  AppendFields(out, res);
}

bool IsUpgrade(const bhttp::request<bhttp::string_body>& req) {
  if (req.find(bhttp::field::upgrade) == req.end()) return false;
  std::string conn(req[bhttp::field::connection]);
  for (char& c : conn) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return conn.find("upgrade") != std::string::npos;
}

}  // namespace

// One I/O thread with its own io_context (concurrency hint 1: no locking between
// threads) and its own pool of upstream connections. A connection lives on one worker
// from accept to close, so its handlers need no strand and the pool no mutex (as
// nginx's worker processes).
struct Worker {
  asio::io_context ioc{1};
  asio::executor_work_guard<asio::io_context::executor_type> work{ioc.get_executor()};
  // Idle keep-alive connections by "ip:port"; touched only from this worker's thread.
  std::unordered_map<std::string, std::deque<std::unique_ptr<UpstreamConn>>> pool;
};

struct Server::Impl {
  ServerOptions options;
  SnapshotSource snapshot;
  std::shared_ptr<const TlsCertificate> default_cert;
  // Before the io_contexts: connections still queued in them when they go hold TLS state.
  asio::ssl::context tls{asio::ssl::context::tls_server};
  std::vector<std::unique_ptr<Worker>> workers;
  size_t next_worker = 0;  // round robin of accepted connections; the acceptor's thread only
  std::optional<tcp::acceptor> http_acceptor, https_acceptor;
  int http_port = 0, https_port = 0;
  std::vector<std::thread> threads;
  std::atomic<bool> stopped{false};

  Impl(ServerOptions o, SnapshotSource s, std::shared_ptr<const TlsCertificate> c)
      : options(std::move(o)), snapshot(std::move(s)), default_cert(std::move(c)) {
    for (int i = 0; i < std::max(1, options.threads); ++i) {
      workers.push_back(std::make_unique<Worker>());
    }
  }

  // A pooled connection to `key` ("ip:port") that has not idled too long, or null.
  // Called on `w`'s thread.
  std::unique_ptr<UpstreamConn> TakeIdle(Worker& w, const std::string& key) {
    auto it = w.pool.find(key);
    if (it == w.pool.end()) return nullptr;
    auto& q = it->second;
    while (!q.empty()) {
      auto c = std::move(q.back());
      q.pop_back();
      if (SteadyClock::now() - c->idle_since < options.pool_idle_timeout) return c;
    }
    return nullptr;
  }

  // Called on `w`'s thread.
  void PutIdle(Worker& w, const std::string& key, std::unique_ptr<UpstreamConn> c) {
    if (stopped) return;
    c->idle_since = SteadyClock::now();
    c->stream.expires_never();
    auto& q = w.pool[key];
    if (q.size() >= options.max_idle_per_endpoint) q.pop_front();
    q.push_back(std::move(c));
  }

  bool Listen(std::optional<tcp::acceptor>& acceptor, int port, int* bound, const char* what);
  template <bool kTls>
  void Accept();
  // SNI: switches the connection to the certificate for the name the client asked for.
  static int OnServerName(SSL* ssl, int*, void* arg);
};

namespace {

template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;
  using std::enable_shared_from_this<Session>::shared_from_this;

 public:
  template <class... Args>
  Session(Server::Impl* server, Worker* worker, int local_port, Socket socket,
          Args&&... args)
      : stream_(std::move(socket), std::forward<Args>(args)...), server_(server),
        worker_(worker), local_port_(local_port) {
    beast::error_code ec;
    auto ep = tcp().socket().remote_endpoint(ec);
    if (!ec) client_ip_ = ep.address().to_string();
  }

  ~Session() { ReleaseSlot(); }

  void Start() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      if constexpr (kTls) {
        self->tcp().expires_after(self->server_->options.client_timeout);
        self->stream_.async_handshake(asio::ssl::stream_base::server,
                                      [self](beast::error_code ec) {
                                        if (ec) {
                                          VLOG(2) << "ingress: TLS handshake with "
                                                  << self->client_ip_ << " failed: "
                                                  << ec.message();
                                          return self->Close();
                                        }
                                        self->ReadHeader();
                                      });
      } else {
        self->ReadHeader();
      }
    });
  }

 private:
  TcpStream& tcp() { return beast::get_lowest_layer(stream_); }
  const ServerOptions& options() const { return server_->options; }

  // --- the client side ---

  void ReadHeader() {
    if (server_->stopped) return Close();
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(options().max_header_bytes));
    parser_->body_limit(options().max_request_body_bytes);
    // One deadline bounds both the idle wait and the request's arrival.
    tcp().expires_after(options().client_timeout);
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             [self = shared_from_this()](beast::error_code ec, size_t) {
                               self->OnHeader(ec);
                             });
  }

  void OnHeader(beast::error_code ec) {
    if (ec) return OnReadError(ec);
    start_ = SteadyClock::now();
    auto& req = parser_->get();
    if (beast::iequals(req[bhttp::field::expect], "100-continue") && !parser_->is_done()) {
      // The client waits for this before it sends the body.
      auto cont = std::make_shared<std::string>("HTTP/1.1 100 Continue\r\n\r\n");
      asio::async_write(stream_, asio::buffer(*cont),
                        [self = shared_from_this(), cont](beast::error_code ec, size_t) {
                          if (ec) return self->Close();
                          self->ReadBody();
                        });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    if (parser_->is_done()) return OnRequest();
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        if (ec) return self->OnReadError(ec);
                        self->OnRequest();
                      });
  }

  void OnReadError(beast::error_code ec) {
    if (!parser_->is_header_done()) start_ = SteadyClock::now();
    if (ec == bhttp::error::body_limit) {
      keep_alive_ = false;
      return Fail(413, "request body too large (limit " +
                           std::to_string(options().max_request_body_bytes) + " bytes)");
    }
    if (ec == bhttp::error::header_limit) {
      keep_alive_ = false;
      return Fail(431, "request headers too large");
    }
    if (ec == bhttp::error::end_of_stream || ec == asio::error::operation_aborted ||
        ec == beast::error::timeout || ec == asio::error::connection_reset ||
        ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) {
      return Close();
    }
    keep_alive_ = false;
    Fail(400, "malformed HTTP request: " + ec.message());
  }

  void OnRequest() {
    tcp().expires_never();
    req_ = parser_->release();
    keep_alive_ = req_.keep_alive();
    host_header_ = std::string(req_[bhttp::field::host]);
    std::string host = NormalizeHost(host_header_);
    std::string_view target(req_.target().data(), req_.target().size());
    std::string_view path = target.substr(0, target.find('?'));
    request_id_ = std::string(req_["X-Request-ID"]);
    if (request_id_.empty()) request_id_ = RequestId();

    snapshot_ = server_->snapshot();
    route_ = snapshot_ ? snapshot_->routes.Lookup(host, path) : nullptr;
    if (route_ == nullptr) return Fail(404, "no Ingress rule matches this host and path");
    if (!kTls && route_->ssl_redirect && server_->https_port > 0) {
      std::string location = "https://" + host;
      if (server_->https_port != 443) location += ":" + std::to_string(server_->https_port);
      location += std::string(target);
      return Fail(308, "redirecting to " + location, location);
    }
    if (route_->limiter) {
      if (!route_->limiter->AllowRequest(client_ip_)) {
        return Fail(503, "request rate limit exceeded for " + client_ip_);
      }
      if (!route_->limiter->AcquireConnection(client_ip_)) {
        return Fail(503, "connection limit exceeded for " + client_ip_);
      }
      slot_ = route_->limiter;
    }
    if (route_->upstream->endpoints().empty()) {
      return Fail(503, "no ready endpoints for " + route_->upstream->ref().ToString());
    }
    PrepareUpstreamRequest();
    attempts_ = 0;
    first_index_ = route_->upstream->NextIndex();
    TryEndpoint();
  }

  void PrepareUpstreamRequest() {
    upgrade_ = IsUpgrade(req_);
    std::string upgrade_to(req_[bhttp::field::upgrade]);
    std::string forwarded_for(req_["X-Forwarded-For"]);
    StripHopByHop(req_);
    req_.erase(bhttp::field::expect);
    req_.version(11);
    req_.set("X-Request-ID", request_id_);
    req_.set("X-Real-IP", client_ip_);
    req_.set("X-Forwarded-For",
             forwarded_for.empty() ? client_ip_ : forwarded_for + ", " + client_ip_);
    req_.set("X-Forwarded-Host", host_header_);
    req_.set("X-Forwarded-Port", std::to_string(local_port_));
    req_.set("X-Forwarded-Proto", kTls ? "https" : "http");
    if (upgrade_) {
      req_.set(bhttp::field::connection, "upgrade");
      req_.set(bhttp::field::upgrade, upgrade_to);
    } else {
      req_.keep_alive(true);
    }
    req_.prepare_payload();
    SerializeHead(req_, up_head_);
  }

  // --- the upstream side ---

  void TryEndpoint() {
    const auto& eps = route_->upstream->endpoints();
    size_t limit =
        std::min<size_t>(eps.size(), static_cast<size_t>(options().max_connect_attempts));
    if (attempts_ >= limit) {
      return Fail(502, "cannot connect to any endpoint of " + route_->upstream->ref().ToString() +
                           " (" + last_error_ + ")");
    }
    const Endpoint& ep = eps[(first_index_ + attempts_) % eps.size()];
    ++attempts_;
    endpoint_ = ep.ip + ":" + std::to_string(ep.port);
    conn_ = upgrade_ ? nullptr : server_->TakeIdle(*worker_, endpoint_);
    if (conn_) {
      reused_ = true;
      return SendUpstream();
    }
    Connect(ep);
  }

  void Connect(const Endpoint& ep) {
    reused_ = false;
    beast::error_code ec;
    auto addr = asio::ip::make_address(ep.ip, ec);
    if (ec) {
      last_error_ = "bad endpoint address " + ep.ip;
      return TryEndpoint();
    }
    conn_ = std::make_unique<UpstreamConn>(worker_->ioc.get_executor());
    conn_->stream.expires_after(options().connect_timeout);
    conn_->stream.async_connect(
        tcp::endpoint(addr, static_cast<unsigned short>(ep.port)),
        [self = shared_from_this()](beast::error_code ec) {
          if (ec) {
            self->last_error_ = self->endpoint_ + ": " +
                                (ec == beast::error::timeout ? "connect timeout" : ec.message());
            LOG(WARNING) << "ingress: " << self->route_->upstream->ref().ToString() << ": "
                         << self->last_error_ << "; trying the next endpoint";
            self->conn_.reset();
            return self->TryEndpoint();
          }
          beast::error_code ignored;
          self->conn_->stream.socket().set_option(tcp::no_delay(true), ignored);
          self->SendUpstream();
        });
  }

  // A pooled connection the upstream closed meanwhile fails at once: try a fresh one
  // to the same endpoint (the request was not processed).
  bool RetryFresh(beast::error_code ec) {
    if (!reused_ || !(ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
                      ec == asio::error::connection_reset || ec == asio::error::broken_pipe)) {
      return false;
    }
    conn_.reset();
    const auto& eps = route_->upstream->endpoints();
    Connect(eps[(first_index_ + attempts_ - 1) % eps.size()]);
    return true;
  }

  void SendUpstream() {
    conn_->stream.expires_after(options().upstream_timeout);
    std::array<asio::const_buffer, 2> bufs{asio::buffer(up_head_), asio::buffer(req_.body())};
    asio::async_write(conn_->stream, bufs, [self = shared_from_this()](beast::error_code ec,
                                                                      size_t) {
      if (ec) {
        if (self->RetryFresh(ec)) return;
        if (ec == beast::error::timeout) {
          return self->Fail(504, "upstream timed out (" + self->endpoint_ + ")");
        }
        return self->Fail(502, "upstream error (" + self->endpoint_ + "): " + ec.message());
      }
      self->ReadUpstream();
    });
  }

  // The upstream's answer is relayed as it arrives, a piece at a time (an event stream or
  // a large download is neither held back nor held in memory); a small answer that is
  // complete after its first read goes out in one write, head and body together.
  void ReadUpstream() {
    res_parser_.emplace();
    res_parser_->header_limit(static_cast<uint32_t>(options().max_header_bytes));
    // Relayed, never held whole: no limit. (Not boost::none, which Beast 1.74 compares
    // as smaller than any Content-Length.)
    res_parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    if (req_.method() == bhttp::verb::head) res_parser_->skip(true);
    head_sent_ = false;
    chunked_out_ = false;
    body_bytes_ = 0;
    bhttp::async_read_header(conn_->stream, conn_->buffer, *res_parser_,
                             [self = shared_from_this()](beast::error_code ec, size_t) {
                               self->OnUpstreamHeader(ec);
                             });
  }

  void OnUpstreamHeader(beast::error_code ec) {
    if (ec) {
      if (RetryFresh(ec)) return;
      conn_.reset();
      if (ec == beast::error::timeout) {
        return Fail(504, "upstream timed out (" + endpoint_ + ")");
      }
      return Fail(502, "upstream error (" + endpoint_ + "): " + ec.message());
    }
    if (upgrade_ && res_parser_->get().result() == bhttp::status::switching_protocols) {
      res_ = {};
      res_.base() = res_parser_->get().base();
      return StartTunnel();
    }
    ReadPiece();
  }

  void ReadPiece() {
    piece_.resize(kPieceBytes);
    auto& body = res_parser_->get().body();
    body.data = piece_.data();
    body.size = piece_.size();
    body.more = true;
    if (res_parser_->is_done()) return OnPiece({});
    // Beast reads as much as the buffer has room for (512 bytes when it is empty): room
    // for a whole piece while relaying, given back before the connection is pooled.
    if (conn_->buffer.size() == 0 && conn_->buffer.capacity() < kPieceBytes) {
      conn_->buffer.reserve(kPieceBytes);
    }
    conn_->stream.expires_after(options().upstream_timeout);
    bhttp::async_read_some(conn_->stream, conn_->buffer, *res_parser_,
                           [self = shared_from_this()](beast::error_code ec, size_t) {
                             self->OnPiece(ec);
                           });
  }

  void OnPiece(beast::error_code ec) {
    if (ec == bhttp::error::need_buffer) ec = {};  // piece_ is full: relay it
    if (ec) {
      conn_.reset();
      // Part of the answer is out: only closing the connection tells the client.
      if (head_sent_) return Close();
      if (ec == beast::error::timeout) return Fail(504, "upstream timed out (" + endpoint_ + ")");
      return Fail(502, "upstream error (" + endpoint_ + "): " + ec.message());
    }
    size_t n = piece_.size() - res_parser_->get().body().size;
    bool done = res_parser_->is_done();
    if (n == 0 && !done) return ReadPiece();  // only framing was parsed
    body_bytes_ += n;
    std::vector<asio::const_buffer> bufs;
    if (!head_sent_) {
      PrepareHead(done ? std::optional<size_t>(n) : std::nullopt);
      bufs.push_back(asio::buffer(head_));
      head_sent_ = true;
    }
    if (n > 0 && chunked_out_) {
      char size[24];
      int len = std::snprintf(size, sizeof size, "%zx\r\n", n);
      chunk_head_.assign(size, static_cast<size_t>(len));
      bufs.push_back(asio::buffer(chunk_head_));
    }
    if (n > 0) bufs.push_back(asio::buffer(piece_.data(), n));
    if (n > 0 && chunked_out_) bufs.push_back(asio::buffer("\r\n", 2));
    if (done && chunked_out_) bufs.push_back(asio::buffer("0\r\n\r\n", 5));
    tcp().expires_after(options().client_timeout);
    asio::async_write(stream_, bufs, [self = shared_from_this(), done](beast::error_code ec,
                                                                       size_t) {
      if (ec) {
        self->conn_.reset();
        return self->Close();
      }
      if (done) return self->FinishUpstream();
      self->ReadPiece();
    });
  }

  // The head the client gets: the upstream's without hop-by-hop fields, framed for this
  // connection. `whole`: the body's size when all of it is already read.
  void PrepareHead(std::optional<size_t> whole) {
    const auto& up = res_parser_->get();
    res_ = {};
    res_.base() = up.base();
    StripHopByHop(res_);
    res_.keep_alive(keep_alive_);
    unsigned status = up.result_int();
    bool bodiless = req_.method() == bhttp::verb::head || status / 100 == 1 || status == 204 ||
                    status == 304;
    if (bodiless) {
      // No body: the Content-Length, if any, is the one a GET would get; keep it.
    } else if (whole.has_value()) {
      res_.content_length(*whole);
    } else if (auto length = res_parser_->content_length(); length.has_value()) {
      res_.content_length(*length);
    } else if (req_.version() >= 11) {
      res_.chunked(true);
      chunked_out_ = true;
    } else {
      // An HTTP/1.0 client: the body ends where the connection does.
      keep_alive_ = false;
      res_.keep_alive(false);
    }
    SerializeHead(res_, head_);
  }

  void FinishUpstream() {
    bool reusable = res_parser_->get().keep_alive() && conn_->buffer.size() == 0 && !upgrade_;
    if (reusable) {
      conn_->buffer.shrink_to_fit();
      server_->PutIdle(*worker_, endpoint_, std::move(conn_));
    } else {
      conn_.reset();
    }
    ReleaseSlot();
    AccessLog(res_.result_int(), body_bytes_);
    res_parser_.reset();
    if (!keep_alive_) return Close();
    Reset();
    ReadHeader();
  }

  // --- answering ---

  void Fail(int status, const std::string& message, const std::string& location = "") {
    res_ = {};
    res_.version(11);
    res_.result(static_cast<unsigned>(status));
    res_.set(bhttp::field::content_type, "text/plain; charset=utf-8");
    if (!location.empty()) res_.set(bhttp::field::location, location);
    // Upstream failures are worth a line each; the rest (404, limits) is in the access log.
    if (status == 502 || status == 504) {
      LOG(WARNING) << "ingress: " << client_ip_ << " " << req_.method_string() << " "
                   << host_header_ << req_.target() << ": " << status << " " << message;
    }
    res_.body() = std::to_string(status) + " " +
                   std::string(bhttp::obsolete_reason(static_cast<bhttp::status>(status))) +
                   ": " + message + "\n";
    res_.keep_alive(keep_alive_);
    res_.prepare_payload();
    // HEAD: the Content-Length of the answer a GET would get, and no body.
    if (req_.method() == bhttp::verb::head) res_.body().clear();
    Respond();
  }

  // Sends res_ to the client.
  void Respond() {
    ReleaseSlot();
    AccessLog(res_.result_int(), res_.body().size());
    tcp().expires_after(options().client_timeout);
    SerializeHead(res_, head_);
    std::array<asio::const_buffer, 2> bufs{asio::buffer(head_), asio::buffer(res_.body())};
    asio::async_write(stream_, bufs, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec || !self->res_.keep_alive()) return self->Close();
      self->Reset();
      self->ReadHeader();
    });
  }

  void AccessLog(unsigned status, size_t bytes) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - start_)
                  .count();
    VLOG(1) << "ingress: " << client_ip_ << " \"" << req_.method_string() << " "
            << req_.target() << "\" host=" << host_header_ << " " << status << " " << bytes
            << " upstream=" << (endpoint_.empty() ? "-" : endpoint_) << " " << ms
            << "ms ingress=" << (route_ ? route_->ingress : "-") << " id=" << request_id_;
  }

  void Reset() {
    route_ = nullptr;
    snapshot_.reset();
    endpoint_.clear();
    last_error_.clear();
    request_id_.clear();
    req_ = {};
    res_ = {};
  }

  void ReleaseSlot() {
    if (slot_) {
      slot_->ReleaseConnection(client_ip_);
      slot_.reset();
    }
  }

  void Close() {
    ReleaseSlot();
    beast::error_code ec;
    if constexpr (kTls) {
      // No close_notify round trip: the peer may be gone, and this must not wait.
      tcp().socket().shutdown(tcp::socket::shutdown_both, ec);
    } else {
      stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    }
    tcp().close();
  }

  // --- Upgrade (WebSocket): relay bytes both ways until either side closes ---

  void StartTunnel() {
    ReleaseSlot();
    AccessLog(101, 0);
    tcp().expires_after(options().client_timeout);
    SerializeHead(res_, head_);  // a 101 has no body
    asio::async_write(stream_, asio::buffer(head_),
                      [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->Close();
      self->tcp().expires_never();
      self->conn_->stream.expires_never();
      // Bytes either side sent after its headers go first.
      self->PumpToUpstream(self->buffer_.size() > 0);
      self->PumpToClient(self->conn_->buffer.size() > 0);
    });
  }

  void PumpToUpstream(bool flush_buffered) {
    if (flush_buffered) {
      asio::async_write(conn_->stream, buffer_.data(),
                        [self = shared_from_this()](beast::error_code ec, size_t n) {
                          if (ec) return self->EndTunnel();
                          self->buffer_.consume(n);
                          self->PumpToUpstream(false);
                        });
      return;
    }
    tcp().expires_after(options().tunnel_idle_timeout);
    stream_.async_read_some(up_buf_.prepare(16384), [self = shared_from_this()](
                                                        beast::error_code ec, size_t n) {
      if (ec) return self->EndTunnel();
      self->up_buf_.commit(n);
      asio::async_write(self->conn_->stream, self->up_buf_.data(),
                        [self](beast::error_code ec, size_t n) {
                          if (ec) return self->EndTunnel();
                          self->up_buf_.consume(n);
                          self->PumpToUpstream(false);
                        });
    });
  }

  void PumpToClient(bool flush_buffered) {
    if (flush_buffered) {
      asio::async_write(stream_, conn_->buffer.data(),
                        [self = shared_from_this()](beast::error_code ec, size_t n) {
                          if (ec) return self->EndTunnel();
                          self->conn_->buffer.consume(n);
                          self->PumpToClient(false);
                        });
      return;
    }
    conn_->stream.expires_after(options().tunnel_idle_timeout);
    conn_->stream.async_read_some(
        down_buf_.prepare(16384),
        [self = shared_from_this()](beast::error_code ec, size_t n) {
          if (ec) return self->EndTunnel();
          self->down_buf_.commit(n);
          asio::async_write(self->stream_, self->down_buf_.data(),
                            [self](beast::error_code ec, size_t n) {
                              if (ec) return self->EndTunnel();
                              self->down_buf_.consume(n);
                              self->PumpToClient(false);
                            });
        });
  }

  void EndTunnel() {
    if (tunnel_closed_) return;
    tunnel_closed_ = true;
    if (conn_) conn_->stream.close();
    Close();
  }

  Stream stream_;
  Server::Impl* server_;
  Worker* worker_;  // the thread this connection and its upstream connections live on
  int local_port_;
  std::string client_ip_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  bhttp::request<bhttp::string_body> req_;
  bool keep_alive_ = true;
  SteadyClock::time_point start_;
  std::string host_header_, request_id_;
  std::shared_ptr<const Snapshot> snapshot_;  // keeps route_ alive
  const Route* route_ = nullptr;
  std::shared_ptr<RateLimiter> slot_;  // holds a concurrency slot until the answer
  bool upgrade_ = false;
  size_t attempts_ = 0, first_index_ = 0;
  std::string endpoint_, last_error_;
  std::unique_ptr<UpstreamConn> conn_;
  bool reused_ = false;
  std::optional<bhttp::response_parser<bhttp::buffer_body>> res_parser_;
  std::vector<char> piece_;  // one read of the upstream's body, relayed before the next
  bool head_sent_ = false, chunked_out_ = false;
  size_t body_bytes_ = 0;
  std::string chunk_head_;
  bhttp::response<bhttp::string_body> res_;  // the head (and for our own answers the body)
  std::string up_head_, head_;  // wire heads of the upstream request and of res_
  beast::flat_buffer up_buf_, down_buf_;
  bool tunnel_closed_ = false;
};

}  // namespace

int Server::Impl::OnServerName(SSL* ssl, int*, void* arg) {
  auto* impl = static_cast<Server::Impl*>(arg);
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (name == nullptr) return SSL_TLSEXT_ERR_OK;  // the default certificate
  std::string host = NormalizeHost(name);
  auto snap = impl->snapshot();
  if (!snap) return SSL_TLSEXT_ERR_OK;
  if (const auto* cert = SelectByHost(snap->certs, host)) {
    SSL_set_SSL_CTX(ssl, (*cert)->context());
  }
  return SSL_TLSEXT_ERR_OK;
}

bool Server::Impl::Listen(std::optional<tcp::acceptor>& acceptor, int port, int* bound,
                          const char* what) {
  beast::error_code ec;
  auto addr = asio::ip::make_address(options.bind_address, ec);
  if (ec) {
    LOG(ERROR) << "ingress: bad --ingress-bind-address " << options.bind_address << ": "
               << ec.message();
    return false;
  }
  tcp::endpoint ep(addr, static_cast<unsigned short>(port));
  acceptor.emplace(workers[0]->ioc);
  acceptor->open(ep.protocol(), ec);
  if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor->bind(ep, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    LOG(ERROR) << "ingress: cannot listen for " << what << " on " << options.bind_address << ":"
               << port << ": " << ec.message()
               << " (Ingress " << what << " is off; the rest of the proxy keeps running)";
    acceptor.reset();
    return false;
  }
  *bound = acceptor->local_endpoint().port();
  LOG(INFO) << "ingress: serving " << what << " on " << options.bind_address << ":" << *bound;
  return true;
}

template <bool kTls>
void Server::Impl::Accept() {
  auto& acceptor = kTls ? *https_acceptor : *http_acceptor;
  Worker* w = workers[next_worker++ % workers.size()].get();
  acceptor.async_accept(w->ioc, [this, w](beast::error_code ec, Socket socket) {
    if (stopped) return;
    if (!ec) {
      socket.set_option(tcp::no_delay(true), ec);
      if constexpr (kTls) {
        std::make_shared<Session<TlsStream>>(this, w, https_port, std::move(socket), tls)
            ->Start();
      } else {
        std::make_shared<Session<PlainStream>>(this, w, http_port, std::move(socket))->Start();
      }
    } else if (ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space) {
      LOG(WARNING) << "ingress: accept: " << ec.message();
    }
    Accept<kTls>();
  });
}

Server::Server(ServerOptions options, SnapshotSource snapshot,
               std::shared_ptr<const TlsCertificate> default_certificate)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(snapshot),
                                   std::move(default_certificate))) {}

Server::~Server() { Stop(); }

int Server::Start() {
  Impl& s = *impl_;
  int listening = 0;
  if (s.options.http_port > 0 &&
      s.Listen(s.http_acceptor, s.options.http_port, &s.http_port, "HTTP")) {
    ++listening;
  }
  if (s.options.https_port > 0) {
    SSL_CTX* ctx = s.tls.native_handle();
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    bool have_cert = false;
    if (s.default_cert) {
      SSL_CTX* def = s.default_cert->context();
      have_cert = SSL_CTX_use_certificate(ctx, SSL_CTX_get0_certificate(def)) == 1 &&
                  SSL_CTX_use_PrivateKey(ctx, SSL_CTX_get0_privatekey(def)) == 1;
    }
    SSL_CTX_set_tlsext_servername_callback(ctx, &Impl::OnServerName);
    SSL_CTX_set_tlsext_servername_arg(ctx, &s);
    if (!have_cert) {
      LOG(ERROR) << "ingress: no default certificate; HTTPS is off";
    } else if (s.Listen(s.https_acceptor, s.options.https_port, &s.https_port, "HTTPS")) {
      ++listening;
    }
  }
  if (s.http_acceptor) s.Accept<false>();
  if (s.https_acceptor) s.Accept<true>();
  if (listening > 0) {
    for (auto& w : s.workers) {
      s.threads.emplace_back([w = w.get()] { w->ioc.run(); });
    }
  }
  return listening;
}

void Server::Stop() {
  Impl& s = *impl_;
  if (s.stopped.exchange(true)) return;
  asio::post(s.workers[0]->ioc, [&s] {
    beast::error_code ec;
    if (s.http_acceptor) s.http_acceptor->close(ec);
    if (s.https_acceptor) s.https_acceptor->close(ec);
  });
  for (auto& w : s.workers) w->ioc.stop();
  for (auto& t : s.threads) t.join();
  s.threads.clear();
  for (auto& w : s.workers) w->pool.clear();
}

int Server::http_port() const { return impl_->http_port; }
int Server::https_port() const { return impl_->https_port; }

}  // namespace kubepp::proxy::ingress
