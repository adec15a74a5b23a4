#include <utility>  // before Boost: Asio 1.74 under C++20 needs std::exchange

#include "common/http/client.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <limits>
#include <mutex>
#include <optional>
#include <vector>

#include "common/api/json.h"
#include "common/http/body_buffer.h"

namespace kubepp::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;
using ErrorCode = boost::system::error_code;

constexpr size_t kMaxHeaderBytes = 64 * 1024;
constexpr size_t kMaxIdleConnections = 32;
constexpr auto kStopPoll = std::chrono::milliseconds(200);

struct Url {
  bool tls = false;
  std::string host;  // without brackets
  std::string port;
  uint16_t port_number = 0;
  std::string host_header;
  std::string base_path;  // "" or "/prefix" (no trailing slash)
};

Result<Url> ParseUrl(const std::string& server) {
  Url u;
  std::string_view s = server;
  if (s.rfind("https://", 0) == 0) {
    u.tls = true;
    s.remove_prefix(8);
  } else if (s.rfind("http://", 0) == 0) {
    s.remove_prefix(7);
  } else {
    return BadRequest("server URL \"" + server + "\" must start with http:// or https://");
  }
  size_t slash = s.find('/');
  std::string_view authority = s.substr(0, slash);
  if (slash != std::string_view::npos) {
    std::string_view path = s.substr(slash);
    while (!path.empty() && path.back() == '/') path.remove_suffix(1);
    u.base_path = std::string(path);
  }
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return BadRequest("bad IPv6 host in \"" + server + "\"");
    u.host = std::string(authority.substr(1, close - 1));
    std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return BadRequest("bad server URL \"" + server + "\"");
      port = rest.substr(1);
    }
  } else {
    size_t colon = authority.find(':');
    u.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (u.host.empty()) return BadRequest("server URL \"" + server + "\" has no host");
  if (port.empty()) port = u.tls ? "443" : "80";
  int port_number = 0;
  for (char c : port) {
    if (c < '0' || c > '9' || (port_number = port_number * 10 + (c - '0')) > 65535) {
      return BadRequest("bad port in server URL \"" + server + "\"");
    }
  }
  if (port_number == 0) return BadRequest("bad port in server URL \"" + server + "\"");
  u.port = std::string(port);
  u.port_number = static_cast<uint16_t>(port_number);
  u.host_header = (authority.front() == '[' ? "[" + u.host + "]" : u.host) + ":" + u.port;
  return u;
}

// One keep-alive connection. Used by one thread at a time, which drives its private
// io_context: that is how the blocking calls get Beast's per-operation timeouts.
struct Connection {
  asio::io_context ioc{1};
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;

  beast::tcp_stream& Tcp() { return tls ? beast::get_lowest_layer(*tls) : *plain; }

  // Calls f with the stream the HTTP layer talks to.
  template <typename F>
  auto With(F&& f) {
    return tls ? f(*tls) : f(*plain);
  }

  // Starts one asynchronous operation via `start(handler)` and runs the io_context
  // until it completes. When `stop` turns true meanwhile, the socket is closed (the
  // operation then fails) and *stopped is set.
  template <typename Start>
  ErrorCode Run(Start&& start, const std::atomic<bool>* stop = nullptr,
                bool* stopped = nullptr) {
    ErrorCode result;
    bool done = false;
    start([&](ErrorCode ec, auto&&...) {
      result = ec;
      done = true;
    });
    ioc.restart();
    if (stop == nullptr) {
      ioc.run();
      return result;
    }
    while (!done) {
      ioc.run_for(kStopPoll);
      if (!done && stop->load() && !*stopped) {
        *stopped = true;
        Tcp().close();
      }
    }
    return result;
  }
};

// A pooled connection whose peer closed it (or sent something unasked) is readable.
bool LooksAlive(Connection& c) {
  pollfd p{};
  p.fd = c.Tcp().socket().native_handle();
  p.events = POLLIN;
  return ::poll(&p, 1, 0) == 0;
}

void SetKeepAlive(tcp::socket& s) {
  int fd = s.native_handle();
  int on = 1, idle = 30, interval = 10, count = 3;
  ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof(interval));
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof(count));
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
}

bool IsSuccess(int status) { return status >= 200 && status < 300; }

// Splits `data` into lines appended to `pending`; returns false when on_line does.
bool FeedLines(std::string& pending, std::string_view data,
               const std::function<bool(std::string_view)>& on_line) {
  size_t start = 0;
  while (true) {
    size_t nl = data.find('\n', start);
    if (nl == std::string_view::npos) break;
    bool more;
    if (pending.empty()) {
      more = on_line(data.substr(start, nl - start));
    } else {
      pending.append(data.substr(start, nl - start));
      more = on_line(pending);
      pending.clear();
    }
    if (!more) return false;
    start = nl + 1;
  }
  pending.append(data.substr(start));
  return true;
}

}  // namespace

struct Client::Impl {
  ClientOptions options;
  Url url;
  std::optional<ssl::context> ssl_ctx;
  std::mutex mu;
  std::vector<std::unique_ptr<Connection>> idle;  // guarded by mu

  std::chrono::seconds Timeout() const { return std::chrono::seconds(options.timeout_seconds); }

  Status Fail(const std::string& what, const std::string& target, const ErrorCode& ec) const {
    return Unavailable(what + " " + options.server + url.base_path + target + ": " +
                       ec.message());
  }

  // An idle pooled connection (reused=true) or a new one.
  Result<std::unique_ptr<Connection>> Acquire(const std::string& target, bool* reused,
                                              const std::atomic<bool>* stop, bool* stopped) {
    {
      std::lock_guard lock(mu);
      while (!idle.empty()) {
        auto c = std::move(idle.back());
        idle.pop_back();
        if (LooksAlive(*c)) {
          *reused = true;
          return c;
        }
      }
    }
    *reused = false;
    auto c = std::make_unique<Connection>();
    if (ssl_ctx) {
      c->tls.emplace(c->ioc, *ssl_ctx);
    } else {
      c->plain.emplace(c->ioc);
    }
    std::vector<tcp::endpoint> endpoints;
    ErrorCode ec;
    ErrorCode not_numeric;
    // Numeric hosts skip the resolver (getaddrinfo) entirely.
    auto address = asio::ip::make_address(url.host, not_numeric);
    if (!not_numeric) {
      endpoints.emplace_back(address, url.port_number);
    } else {
      tcp::resolver resolver(c->ioc);
      auto results = resolver.resolve(url.host, url.port, ec);
      if (ec) return Fail("resolve", target, ec);
      for (const auto& r : results) endpoints.push_back(r.endpoint());
    }
    auto& stream = c->Tcp();
    stream.expires_after(Timeout());
    ec = c->Run([&](auto handler) { stream.async_connect(endpoints, handler); }, stop, stopped);
    if (ec) return Fail("connect", target, ec);
    SetKeepAlive(stream.socket());
    if (c->tls) {
      // SNI carries names only.
      if (not_numeric && !SSL_set_tlsext_host_name(c->tls->native_handle(), url.host.c_str())) {
        return Unavailable("TLS: cannot set SNI host name " + url.host);
      }
      if (!options.insecure_skip_verify) {
        c->tls->set_verify_callback(ssl::host_name_verification(url.host));
      }
      stream.expires_after(Timeout());
      ec = c->Run(
          [&](auto handler) { c->tls->async_handshake(ssl::stream_base::client, handler); },
          stop, stopped);
      if (ec) return Fail("TLS handshake with", target, ec);
    }
    return c;
  }

  void Release(std::unique_ptr<Connection> c) {
    c->Tcp().expires_never();
    internal::ReleaseBodyRoom(c->buffer);
    std::lock_guard lock(mu);
    if (idle.size() < kMaxIdleConnections) idle.push_back(std::move(c));
  }

  Result<bhttp::request<bhttp::string_body>> MakeRequest(const std::string& method,
                                                         const std::string& target,
                                                         const std::string& body,
                                                         const std::string& content_type,
                                                         const Headers& extra) const {
    bhttp::request<bhttp::string_body> req;
    req.version(11);
    bhttp::verb verb = bhttp::string_to_verb(method);
    if (verb == bhttp::verb::unknown) return BadRequest("unknown HTTP method " + method);
    req.method(verb);
    req.target(url.base_path + target);
    req.set(bhttp::field::host, url.host_header);
    req.set(bhttp::field::user_agent, options.user_agent);
    req.set(bhttp::field::accept, "application/json");
    if (!options.bearer_token.empty()) {
      req.set(bhttp::field::authorization, "Bearer " + options.bearer_token);
    }
    for (const auto& [name, value] : extra) req.set(name, value);
    if (!body.empty() || verb == bhttp::verb::post || verb == bhttp::verb::put ||
        verb == bhttp::verb::patch) {
      req.set(bhttp::field::content_type, content_type);
      req.body() = body;
    }
    req.keep_alive(true);
    req.prepare_payload();
    return req;
  }

  Result<Response> Do(const std::string& method, const std::string& target,
                      const std::string& body, const std::string& content_type,
                      const Headers& extra) {
    ASSIGN_OR_RETURN(auto req, MakeRequest(method, target, body, content_type, extra));
    // A pooled connection the server closed just before we wrote gets one retry on a new
    // connection; the server had answered if it had processed the request.
    for (int attempt = 0;; ++attempt) {
      bool reused = false;
      ASSIGN_OR_RETURN(auto c, Acquire(target, &reused, nullptr, nullptr));
      bool may_retry = reused && attempt == 0;
      c->Tcp().expires_after(Timeout());
      ErrorCode ec = c->Run([&](auto handler) {
        c->With([&](auto& s) { bhttp::async_write(s, req, handler); });
      });
      if (ec) {
        if (may_retry) continue;
        return Fail(method, target, ec);
      }
      bhttp::response_parser<bhttp::string_body> parser;
      parser.header_limit(kMaxHeaderBytes);
      parser.body_limit(kMaxResponseBytes);
      if (req.method() == bhttp::verb::head) parser.skip(true);
      c->Tcp().expires_after(Timeout());
      ec = c->Run([&](auto handler) {
        c->With([&](auto& s) { bhttp::async_read_header(s, c->buffer, parser, handler); });
      });
      if (!ec && !parser.is_done()) {
        internal::ReserveForBody(c->buffer, parser);
        ec = c->Run([&](auto handler) {
          c->With([&](auto& s) { bhttp::async_read(s, c->buffer, parser, handler); });
        });
      }
      if (ec) {
        if (may_retry && !parser.got_some()) continue;
        return Fail(method, target, ec);
      }
      auto& msg = parser.get();
      Response resp;
      resp.status = msg.result_int();
      resp.content_type = std::string(msg[bhttp::field::content_type]);
      for (const auto& f : msg) {
        if (f.name() == bhttp::field::content_type) continue;
        resp.headers.emplace_back(ToLower(std::string(f.name_string())), std::string(f.value()));
      }
      resp.body = std::move(msg.body());
      if (parser.keep_alive()) Release(std::move(c));
      return resp;
    }
  }

  // The core of StreamLines and Download: a GET whose 2xx body goes to `on_data` piece by
  // piece; a non-2xx body is collected (up to kMaxHeaderBytes) into the Response. Sets
  // *stopped when `stop` ended it and *aborted when on_data returned false (the
  // connection is then dropped). With `read_timeout` every read is bounded by the timeout.
  Result<Response> Stream(const std::string& target,
                          const std::function<bool(std::string_view)>& on_data,
                          const std::atomic<bool>* stop, const Headers& extra,
                          bool read_timeout, bool* stopped, bool* aborted) {
    static const std::atomic<bool> kNever{false};
    if (stop == nullptr) stop = &kNever;
    *stopped = false;
    *aborted = false;
    Response resp;
    if (stop->load()) {
      *stopped = true;
      return resp;
    }
    ASSIGN_OR_RETURN(auto req, MakeRequest("GET", target, "", "", extra));
    std::unique_ptr<Connection> c;
    std::optional<bhttp::response_parser<bhttp::buffer_body>> parser;
    // As in Do, a stale pooled connection gets one retry; nothing has been delivered yet.
    for (int attempt = 0;; ++attempt) {
      bool reused = false;
      ASSIGN_OR_RETURN(c, Acquire(target, &reused, stop, stopped));
      if (*stopped) return resp;
      bool may_retry = reused && attempt == 0;
      c->Tcp().expires_after(Timeout());
      ErrorCode ec = c->Run(
          [&](auto handler) { c->With([&](auto& s) { bhttp::async_write(s, req, handler); }); },
          stop, stopped);
      if (*stopped) return resp;
      if (ec) {
        if (may_retry) continue;
        return Fail("GET", target, ec);
      }
      parser.emplace();
      parser->header_limit(kMaxHeaderBytes);
      // Unlimited: boost::none trips a Beast 1.74 bug (length > none is true).
      parser->body_limit(std::numeric_limits<std::uint64_t>::max());
      c->Tcp().expires_after(Timeout());
      ec = c->Run(
          [&](auto handler) {
            c->With([&](auto& s) { bhttp::async_read_header(s, c->buffer, *parser, handler); });
          },
          stop, stopped);
      if (*stopped) return resp;
      if (ec) {
        if (may_retry && !parser->got_some()) continue;
        return Fail("GET", target, ec);
      }
      break;
    }
    auto& msg = parser->get();
    resp.status = msg.result_int();
    resp.content_type = std::string(msg[bhttp::field::content_type]);
    for (const auto& f : msg) {
      if (f.name() == bhttp::field::content_type) continue;
      resp.headers.emplace_back(ToLower(std::string(f.name_string())), std::string(f.value()));
    }
    // Without a read timeout, TCP keep-alive notices a dead peer; stop ends it early.
    if (!read_timeout) c->Tcp().expires_never();
    internal::ReserveForBody(c->buffer, *parser);

    std::vector<char> buf(64 * 1024);
    while (!parser->is_done()) {
      parser->get().body().data = buf.data();
      parser->get().body().size = buf.size();
      if (read_timeout) c->Tcp().expires_after(Timeout());
      ErrorCode ec = c->Run(
          [&](auto handler) {
            c->With([&](auto& s) { bhttp::async_read_some(s, c->buffer, *parser, handler); });
          },
          stop, stopped);
      if (ec == bhttp::error::need_buffer) ec = {};
      if (*stopped) return resp;
      if (ec) return Fail("GET", target, ec);
      std::string_view data(buf.data(), buf.size() - parser->get().body().size);
      if (!IsSuccess(resp.status)) {
        if (resp.body.size() < kMaxHeaderBytes) resp.body.append(data);
        continue;
      }
      if (!data.empty() && !on_data(data)) {
        *aborted = true;
        return resp;
      }
    }
    if (parser->keep_alive()) Release(std::move(c));
    return resp;
  }

  Status StreamLines(const std::string& target,
                     const std::function<bool(std::string_view)>& on_line,
                     const std::atomic<bool>* stop, const Headers& extra) {
    std::string pending;
    bool too_long = false;
    auto on_data = [&](std::string_view data) {
      if (!FeedLines(pending, data, on_line)) return false;
      too_long = pending.size() > kMaxResponseBytes;
      return !too_long;
    };
    bool stopped = false, aborted = false;
    ASSIGN_OR_RETURN(Response resp, Stream(target, on_data, stop, extra, false, &stopped, &aborted));
    if (stopped) return Status::Ok();
    if (!IsSuccess(resp.status)) return StatusFromHttp(resp.status, resp.body);
    if (too_long) {
      return Unavailable("GET " + target + ": stream line longer than " +
                         std::to_string(kMaxResponseBytes) + " bytes");
    }
    if (aborted) return Status::Ok();
    if (!pending.empty()) on_line(pending);
    return Status::Ok();
  }
};

Status StatusFromHttp(int http_status, std::string_view body) {
  auto doc = api::ParseJson(body);
  if (!doc.ok() || !doc->IsObject() || api::GetString(*doc, "kind") != "Status") {
    std::string_view head = body.substr(0, 256);
    std::string message = "the server responded with HTTP " + std::to_string(http_status);
    if (!head.empty()) message += ": " + std::string(head);
    return Status(CodeFromHttp(http_status, ""), message);
  }
  std::string reason = api::GetString(*doc, "reason");
  std::string message = api::GetString(*doc, "message");
  if (message.empty()) message = reason.empty() ? "HTTP " + std::to_string(http_status) : reason;
  Status st(CodeFromHttp(http_status, reason), message);
  if (st.ok()) st = Status(Code::kInternal, message);  // a Status body with a 2xx code
  if (const api::Value* d = api::Find(*doc, "details"); d != nullptr && d->IsObject()) {
    auto& details = st.mutable_details();
    details.name = api::GetString(*d, "name");
    details.group = api::GetString(*d, "group");
    details.kind = api::GetString(*d, "kind");
    details.retry_after_seconds = static_cast<int>(api::GetInt(*d, "retryAfterSeconds"));
    if (const api::Value* causes = api::Find(*d, "causes"); causes && causes->IsArray()) {
      for (const auto& c : causes->GetArray()) {
        details.causes.push_back(
            {api::GetString(c, "reason"), api::GetString(c, "message"), api::GetString(c, "field")});
      }
    }
  }
  return st;
}

Result<std::unique_ptr<Client>> Client::Create(ClientOptions options) {
  ASSIGN_OR_RETURN(Url url, ParseUrl(options.server));
  auto impl = std::make_unique<Impl>();
  if (url.tls) {
    impl->ssl_ctx.emplace(ssl::context::tls_client);
    auto& ctx = *impl->ssl_ctx;
    ErrorCode ec;
    auto check = [&](const std::string& what) -> Status {
      if (ec) return BadRequest(what + ": " + ec.message());
      return Status::Ok();
    };
    if (options.insecure_skip_verify) {
      ctx.set_verify_mode(ssl::verify_none);
    } else {
      ctx.set_verify_mode(ssl::verify_peer);
      if (!options.ca_data.empty()) {
        ctx.add_certificate_authority(asio::buffer(options.ca_data), ec);
        RETURN_IF_ERROR(check("certificate-authority-data"));
      } else if (!options.ca_file.empty()) {
        ctx.load_verify_file(options.ca_file, ec);
        RETURN_IF_ERROR(check("CA file " + options.ca_file));
      } else {
        ctx.set_default_verify_paths(ec);
        RETURN_IF_ERROR(check("system CA certificates"));
      }
    }
    bool has_cert = !options.client_cert_data.empty() || !options.client_cert_file.empty();
    bool has_key = !options.client_key_data.empty() || !options.client_key_file.empty();
    if (has_cert != has_key) {
      return BadRequest("a client certificate needs a client key and vice versa");
    }
    if (!options.client_cert_data.empty()) {
      ctx.use_certificate_chain(asio::buffer(options.client_cert_data), ec);
      RETURN_IF_ERROR(check("client-certificate-data"));
    } else if (!options.client_cert_file.empty()) {
      ctx.use_certificate_chain_file(options.client_cert_file, ec);
      RETURN_IF_ERROR(check("client certificate " + options.client_cert_file));
    }
    if (!options.client_key_data.empty()) {
      ctx.use_private_key(asio::buffer(options.client_key_data), ssl::context::pem, ec);
      RETURN_IF_ERROR(check("client-key-data"));
    } else if (!options.client_key_file.empty()) {
      ctx.use_private_key_file(options.client_key_file, ssl::context::pem, ec);
      RETURN_IF_ERROR(check("client key " + options.client_key_file));
    }
  }
  impl->options = std::move(options);
  impl->url = std::move(url);
  return std::unique_ptr<Client>(new Client(std::move(impl)));
}

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() = default;

const ClientOptions& Client::options() const { return impl_->options; }

Result<Response> Client::Do(const std::string& method, const std::string& target,
                            const std::string& body, const std::string& content_type,
                            const Headers& extra) {
  return impl_->Do(method, target, body, content_type, extra);
}

Status Client::StreamLines(const std::string& target,
                           const std::function<bool(std::string_view line)>& on_line,
                           const std::atomic<bool>* stop, const Headers& extra) {
  return impl_->StreamLines(target, on_line, stop, extra);
}

Result<Response> Client::Download(const std::string& target,
                                  const std::function<bool(std::string_view data)>& on_data,
                                  const std::atomic<bool>* stop, const Headers& extra) {
  bool stopped = false, aborted = false;
  ASSIGN_OR_RETURN(Response resp, impl_->Stream(target, on_data, stop, extra, true, &stopped, &aborted));
  if (stopped) return Unavailable("GET " + target + ": cancelled");
  if (aborted) return Unavailable("GET " + target + ": aborted by the receiver");
  return resp;
}

}  // namespace kubepp::http
