// The one translation unit with Beast's server side (it is slow to compile: keep it
// here and nowhere else).
#include <utility>

#include "common/http/server.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
#include <deque>
#include <optional>
#include <mutex>
#include <thread>

#include "common/http/body_buffer.h"
#include "common/log.h"

namespace kubepp::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

std::string StatusLine(int status) {
  auto reason = bhttp::obsolete_reason(static_cast<bhttp::status>(status));
  return "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) + "\r\n";
}

using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// The server context: TLS 1.2+, the certificate chain and key, and, with a client CA,
// optional client certificates verified against it.
Result<std::unique_ptr<net::ssl::context>> MakeTlsContext(const ServerOptions& o) {
  if (o.tls_cert_file.empty() != o.tls_key_file.empty()) {
    return BadRequest("TLS needs both a certificate and a key file");
  }
  auto ctx = std::make_unique<net::ssl::context>(net::ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  beast::error_code ec;
  ctx->use_certificate_chain_file(o.tls_cert_file, ec);
  if (ec) return BadRequest("cannot load TLS certificate " + o.tls_cert_file + ": " + ec.message());
  ctx->use_private_key_file(o.tls_key_file, net::ssl::context::pem, ec);
  if (ec) return BadRequest("cannot load TLS key " + o.tls_key_file + ": " + ec.message());
  if (SSL_CTX_check_private_key(native) != 1) {
    return BadRequest("TLS key " + o.tls_key_file + " does not match " + o.tls_cert_file);
  }
  if (!o.client_ca_file.empty()) {
    ctx->load_verify_file(o.client_ca_file, ec);
    if (ec) return BadRequest("cannot load client CA " + o.client_ca_file + ": " + ec.message());
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(o.client_ca_file.c_str());
    if (names == nullptr) return BadRequest("no CA certificate in " + o.client_ca_file);
    // Named in the certificate request so that clients with several certificates
    // (kubectl) offer the one this CA issued.
    SSL_CTX_set_client_CA_list(native, names);
    // verify_peer without fail_if_no_peer_cert: a certificate is optional, but one
    // that does not verify ends the handshake.
    ctx->set_verify_mode(net::ssl::verify_peer, ec);
    // Session resumption with verification on needs a context id, or OpenSSL fails
    // resumed handshakes.
    static const unsigned char kSessionId[] = "kubepp";
    SSL_CTX_set_session_id_context(native, kSessionId, sizeof kSessionId - 1);
  }
  return ctx;
}

std::string NameEntryUtf8(X509_NAME_ENTRY* entry) {
  unsigned char* utf8 = nullptr;
  int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(entry));
  if (n < 0) return "";
  std::string out(reinterpret_cast<char*>(utf8), static_cast<size_t>(n));
  OPENSSL_free(utf8);
  return out;
}

}  // namespace

struct Server::Impl {
  ServerOptions options;
  Handler handler;
  net::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::vector<std::thread> threads;
  std::atomic<int> inflight{0};
  std::atomic<bool> stopped{false};
  int bound_port = 0;
  std::unique_ptr<net::ssl::context> tls;  // set when serving HTTPS

  Impl(ServerOptions o, Handler h) : options(std::move(o)), handler(std::move(h)), ioc(options.threads) {}
  void Accept();
};

namespace {

// Bridges a handler's answer (from any thread) onto the session's strand.
template <class Session>
class Writer : public ResponseWriter {
 public:
  explicit Writer(std::shared_ptr<Session> s) : session_(std::move(s)) {}
  void Send(Response response) override;
  void StartStream(int status, const std::string& content_type,
                   std::vector<std::pair<std::string, std::string>> headers) override;
  bool WriteChunk(std::shared_ptr<const std::string> data) override;
  void EndStream() override;
  bool Closed() const override;
  void OnClose(std::function<void()> fn) override;

 private:
  std::shared_ptr<Session> session_;
  std::atomic<bool> answered_{false};
};

// One connection, over a plain TCP stream or a TLS stream on top of it.
template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;
  using std::enable_shared_from_this<Session>::shared_from_this;

 public:
  // `args` construct the stream: the socket, and for TLS the context.
  template <class... Args>
  Session(Server::Impl* server, Args&&... args)
      : stream_(std::forward<Args>(args)...), server_(server) {
    beast::error_code ec;
    auto ep = tcp().socket().remote_endpoint(ec);
    if (!ec) remote_ = ep.address().to_string() + ":" + std::to_string(ep.port());
  }

  void Start() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      if constexpr (kTls) {
        self->Handshake();
      } else {
        self->ReadRequest();
      }
    });
  }

  // --- called from any thread through Writer ---
  void PostSend(Response r) {
    net::post(stream_.get_executor(), [self = shared_from_this(), r = std::move(r)]() mutable {
      self->DoSend(std::move(r));
    });
  }

  void PostStartStream(int status, std::string content_type,
                       std::vector<std::pair<std::string, std::string>> headers) {
    std::string head = StatusLine(status);
    head += "Content-Type: " + content_type + "\r\n";
    for (auto& [k, v] : headers) head += k + ": " + v + "\r\n";
    head += "Cache-Control: no-cache, private\r\nTransfer-Encoding: chunked\r\n\r\n";
    {
      std::lock_guard<std::mutex> l(mu_);
      queued_bytes_ += head.size();
      stream_open_ = true;
    }
    net::post(stream_.get_executor(),
              [self = shared_from_this(), head = std::make_shared<const std::string>(head)] {
                self->streaming_ = true;
                if (self->counted_) {  // a long-running request does not count as in flight
                  self->server_->inflight--;
                  self->counted_ = false;
                }
                self->Enqueue(head, false);
                self->WatchForClose();
              });
  }

  bool PostChunk(std::shared_ptr<const std::string> data) {
    if (closed_) return false;
    if (data->empty()) return true;  // an empty chunk would end the stream
    std::shared_ptr<const std::string> rest;  // what a direct write left unwritten
    {
      std::lock_guard<std::mutex> l(mu_);
      if constexpr (!kTls) {
        if (stream_open_ && queued_bytes_ == 0 && !closed_) {
          auto written = WriteChunkNow(*data);
          if (!written.has_value()) {
            net::post(stream_.get_executor(), [self = shared_from_this()] { self->Close(); });
            return false;
          }
          if (written->empty()) return true;
          rest = std::make_shared<const std::string>(std::move(*written));
          queued_bytes_ += rest->size();
        }
      }
      if (rest == nullptr) {
        if (queued_bytes_ + data->size() > server_->options.max_stream_buffer_bytes) {
          too_slow_ = true;
        } else {
          queued_bytes_ += data->size();
        }
      }
    }
    if (rest != nullptr) {
      net::post(stream_.get_executor(), [self = shared_from_this(), rest = std::move(rest)] {
        self->Enqueue(rest, false);
      });
      return true;
    }
    if (too_slow_) {
      LOG(WARNING) << "closing stream to slow client " << remote_;
      net::post(stream_.get_executor(), [self = shared_from_this()] { self->Close(); });
      return false;
    }
    net::post(stream_.get_executor(), [self = shared_from_this(), data = std::move(data)] {
      self->Enqueue(data, true);
    });
    return true;
  }

  void PostEndStream() {
    {
      std::lock_guard<std::mutex> l(mu_);
      stream_open_ = false;
      queued_bytes_ += 5;  // the last chunk below
    }
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      self->Enqueue(std::make_shared<const std::string>("0\r\n\r\n"), false);
      self->end_after_drain_ = true;
      self->MaybeFinishStream();
    });
  }

  bool closed() const { return closed_; }

  void AddCloseCallback(std::function<void()> fn) {
    net::dispatch(stream_.get_executor(), [self = shared_from_this(), fn = std::move(fn)] {
      if (self->closed_) {
        fn();
      } else {
        self->close_callbacks_.push_back(fn);
      }
    });
  }

 private:
  beast::tcp_stream& tcp() { return beast::get_lowest_layer(stream_); }

  // Writes `data` as one chunk straight to the socket, without blocking; mu_ held and
  // nothing queued. Returns the bytes the socket did not take (to queue on the strand),
  // or nullopt when the connection failed. A watch event goes out to a thousand
  // watchers with one system call each this way, not two hand-offs between threads.
  std::optional<std::string> WriteChunkNow(const std::string& data) {
    char size[24];
    int n = std::snprintf(size, sizeof size, "%zx\r\n", data.size());
    static const char kCrlf[] = "\r\n";
    iovec iov[3] = {{size, static_cast<size_t>(n)},
                    {const_cast<char*>(data.data()), data.size()},
                    {const_cast<char*>(kCrlf), 2}};
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = 3;
    ssize_t sent = ::sendmsg(tcp().socket().native_handle(), &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return std::nullopt;
    size_t skip = sent < 0 ? 0 : static_cast<size_t>(sent);
    std::string rest;
    for (const iovec& v : iov) {
      size_t take = std::min(skip, v.iov_len);
      skip -= take;
      rest.append(static_cast<const char*>(v.iov_base) + take, v.iov_len - take);
    }
    return rest;
  }

  void Handshake() {
    tcp().expires_after(std::chrono::seconds(server_->options.read_timeout_seconds));
    stream_.async_handshake(net::ssl::stream_base::server,
                            [self = shared_from_this()](beast::error_code ec) {
                              if (ec) {
                                // Scanners and clients with an untrusted certificate:
                                // nothing to answer over a failed handshake.
                                VLOG(1) << "TLS handshake with " << self->remote_
                                        << " failed: " << ec.message();
                                return self->Close();
                              }
                              self->ReadPeerIdentity();
                              self->ReadRequest();
                            });
  }

  // The verified client certificate's subject (with no certificate, nothing).
  void ReadPeerIdentity() {
    SSL* ssl = stream_.native_handle();
    X509* cert = SSL_get0_peer_certificate(ssl);
    if (cert == nullptr || SSL_get_verify_result(ssl) != X509_V_OK) return;
    X509_NAME* subject = X509_get_subject_name(cert);
    for (int i = 0; i < X509_NAME_entry_count(subject); ++i) {
      X509_NAME_ENTRY* e = X509_NAME_get_entry(subject, i);
      int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
      if (nid == NID_commonName) peer_cn_ = NameEntryUtf8(e);
      if (nid == NID_organizationName) peer_orgs_.push_back(NameEntryUtf8(e));
    }
  }

  void ReadRequest() {
    if (server_->stopped) return Close();
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(server_->options.max_header_bytes));
    parser_->body_limit(server_->options.max_body_bytes);
    internal::ReleaseBodyRoom(buffer_);
    // An idle keep-alive connection may wait idle_timeout for its next request's header;
    // the body then has read_timeout.
    tcp().expires_after(std::chrono::seconds(server_->options.idle_timeout_seconds));
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             [self = shared_from_this()](beast::error_code ec, size_t) {
                               self->OnHeader(ec);
                             });
  }

  void OnHeader(beast::error_code ec) {
    if (ec || parser_->is_done()) return OnRead(ec);
    internal::ReserveForBody(buffer_, *parser_);
    tcp().expires_after(std::chrono::seconds(server_->options.read_timeout_seconds));
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        self->OnRead(ec);
                      });
  }

  void OnRead(beast::error_code ec) {
    if (ec == bhttp::error::body_limit) {
      Response r;
      r.status = 413;
      r.body = Status(Code::kRequestTooLarge,
                      "the request body is too large (limit " +
                          std::to_string(server_->options.max_body_bytes) + " bytes)")
                   .ToJson();
      keep_alive_ = false;
      return DoSend(std::move(r));
    }
    if (ec == bhttp::error::header_limit) {
      Response r;
      r.status = 431;
      r.body = BadRequest("request headers too large").ToJson();
      keep_alive_ = false;
      return DoSend(std::move(r));
    }
    if (ec) {
      if (ec != bhttp::error::end_of_stream && ec != net::error::operation_aborted &&
          ec != beast::error::timeout && ec != net::error::connection_reset &&
          ec != net::error::eof) {
        // Malformed HTTP: answer 400 once, then close.
        Response r;
        r.status = 400;
        r.body = BadRequest("malformed HTTP request: " + ec.message()).ToJson();
        keep_alive_ = false;
        return DoSend(std::move(r));
      }
      return Close();
    }
    auto msg = parser_->release();
    keep_alive_ = msg.keep_alive();
    Request req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    req.remote_address = remote_;
    req.peer_cn = peer_cn_;
    req.peer_orgs = peer_orgs_;
    for (auto& f : msg) {
      auto n = f.name_string();
      req.headers[ToLower(std::string_view(n.data(), n.size()))] = std::string(f.value());
    }
    req.body = std::move(msg.body());
    if (!ParseTarget(req.target, &req.path, &req.query)) {
      Response r;
      r.status = 400;
      r.body = BadRequest("malformed percent-encoding in the request URL").ToJson();
      return DoSend(std::move(r));
    }
    if (server_->inflight.fetch_add(1) >= server_->options.max_inflight) {
      server_->inflight--;
      Response r;
      r.status = 429;
      r.headers.push_back({"Retry-After", "1"});
      Status st(Code::kTooManyRequests, "too many requests in flight, please try again later");
      st.mutable_details().retry_after_seconds = 1;
      r.body = st.ToJson();
      return DoSend(std::move(r));
    }
    counted_ = true;
    tcp().expires_never();
    auto writer = std::make_shared<Writer<Session>>(shared_from_this());
    server_->handler(std::move(req), std::move(writer));
  }

  void DoSend(Response r) {
    if (closed_) return;
    if (counted_) {
      server_->inflight--;
      counted_ = false;
    }
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>();
    res->version(11);
    res->result(static_cast<unsigned>(r.status));
    res->set(bhttp::field::content_type, r.content_type);
    // Repeated names stay repeated (several Warning headers); a Content-Type replaces.
    for (auto& [k, v] : r.headers) {
      if (beast::iequals(k, "content-type")) res->set(k, v);
      else res->insert(k, v);
    }
    res->body() = std::move(r.body);
    res->keep_alive(keep_alive_);
    res->prepare_payload();
    tcp().expires_after(std::chrono::seconds(server_->options.write_timeout_seconds));
    bhttp::async_write(stream_, *res,
                       [self = shared_from_this(), res](beast::error_code ec, size_t) {
                         if (ec || !res->keep_alive()) return self->Close();
                         self->ReadRequest();
                       });
  }

  // Streaming: a queue of chunks written one at a time on the strand.
  void Enqueue(std::shared_ptr<const std::string> data, bool frame) {
    if (closed_) return;
    if (frame) {
      static const auto kCrlf = std::make_shared<const std::string>("\r\n");
      char size[24];
      int n = std::snprintf(size, sizeof size, "%zx\r\n", data->size());
      out_.push_back({std::make_shared<const std::string>(size, n), data->size()});
      out_.push_back({data, 0});
      out_.push_back({kCrlf, 0});
    } else {
      out_.push_back({data, data->size()});
    }
    if (!writing_) WriteNext();
  }

  void WriteNext() {
    if (closed_ || out_.empty()) {
      writing_ = false;
      MaybeFinishStream();
      return;
    }
    writing_ = true;
    // Gather everything queued into one write.
    std::vector<net::const_buffer> bufs;
    auto batch = std::make_shared<std::vector<Piece>>();
    while (!out_.empty() && bufs.size() < 64) {
      batch->push_back(std::move(out_.front()));
      out_.pop_front();
      bufs.push_back(net::buffer(*batch->back().data));
    }
    // Without a per-write timer (the stream's expiry is off while streaming): a
    // stream is written once per event per watcher, and a client too slow to drain it
    // is cut off by the stream buffer limit instead (PostChunk). Plain HTTP writes
    // straight to the socket; TLS has to go through the TLS stream.
    auto& target = [this]() -> auto& {
      if constexpr (kTls) {
        return stream_;
      } else {
        return tcp().socket();
      }
    }();
    net::async_write(target, bufs,
                     [self = shared_from_this(), batch](beast::error_code ec, size_t) {
                       size_t accounted = 0;
                       for (auto& p : *batch) accounted += p.accounted;
                       {
                         std::lock_guard<std::mutex> l(self->mu_);
                         self->queued_bytes_ -= std::min(self->queued_bytes_, accounted);
                       }
                       if (ec) return self->Close();
                       self->WriteNext();
                     });
  }

  void MaybeFinishStream() {
    if (!end_after_drain_ || writing_ || !out_.empty() || closed_) return;
    end_after_drain_ = false;
    streaming_ = false;
    // The close-detecting read may still be pending: cancel it and start over with a
    // fresh request read once it completes.
    if (detect_pending_) {
      restart_after_detect_ = true;
      tcp().socket().cancel();
    } else if (keep_alive_) {
      ReadRequest();
    } else {
      Close();
    }
  }

  // While streaming, the client sends nothing; the socket turning readable means it
  // went away (with TLS: its close_notify, then EOF).
  void WatchForClose() {
    detect_pending_ = true;
    tcp().socket().async_wait(tcp::socket::wait_read,
                                [self = shared_from_this()](beast::error_code ec) {
                                  self->detect_pending_ = false;
                                  if (self->restart_after_detect_) {
                                    self->restart_after_detect_ = false;
                                    if (self->keep_alive_) return self->ReadRequest();
                                    return self->Close();
                                  }
                                  if (ec == net::error::operation_aborted && !self->closed_) return;
                                  if (!self->streaming_) return;
                                  // The reactor may report readiness that is not there (seen
                                  // under load): only EOF, an error or bytes end the stream.
                                  char c;
                                  ssize_t n = ::recv(self->tcp().socket().native_handle(), &c, 1,
                                                     MSG_PEEK | MSG_DONTWAIT);
                                  if (!ec && n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                                    return self->WatchForClose();
                                  }
                                  self->Close();
                                });
  }

  void Close() {
    if (closed_) return;
    if (counted_) {
      server_->inflight--;
      counted_ = false;
    }
    {
      // Under mu_: a direct write (WriteChunkNow) never meets a closed or reused socket.
      std::lock_guard<std::mutex> l(mu_);
      closed_ = true;
      beast::error_code ec;
      // No TLS close_notify: every response is delimited by its length or last chunk,
      // so the peer loses nothing, and a slow or vanished peer cannot stall the shutdown.
      tcp().socket().shutdown(tcp::socket::shutdown_both, ec);
      tcp().socket().close(ec);
    }
    out_.clear();
    auto cbs = std::move(close_callbacks_);
    for (auto& cb : cbs) cb();
  }

  struct Piece {
    std::shared_ptr<const std::string> data;
    size_t accounted;  // bytes counted against the stream buffer limit
  };

  Stream stream_;
  Server::Impl* server_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::string remote_;
  std::string peer_cn_;
  std::vector<std::string> peer_orgs_;
  bool keep_alive_ = true;
  bool counted_ = false;  // counted in server_->inflight
  // Strand-only state.
  std::deque<Piece> out_;
  bool writing_ = false;
  bool streaming_ = false;
  bool end_after_drain_ = false;
  bool detect_pending_ = false;
  bool restart_after_detect_ = false;
  std::vector<std::function<void()>> close_callbacks_;
  // Shared with other threads.
  std::atomic<bool> closed_{false};  // set under mu_
  std::mutex mu_;
  // Under mu_: bytes handed to the strand and not yet written (0: nothing queued or in
  // flight, so a chunk may be written directly), and whether a chunked stream is open.
  size_t queued_bytes_ = 0;
  bool stream_open_ = false;
  std::atomic<bool> too_slow_{false};
};

template <class S>
void Writer<S>::Send(Response response) {
  if (answered_.exchange(true)) return;
  session_->PostSend(std::move(response));
}
template <class S>
void Writer<S>::StartStream(int status, const std::string& content_type,
                         std::vector<std::pair<std::string, std::string>> headers) {
  if (answered_.exchange(true)) return;
  session_->PostStartStream(status, content_type, std::move(headers));
}
template <class S>
bool Writer<S>::WriteChunk(std::shared_ptr<const std::string> data) {
  return session_->PostChunk(std::move(data));
}
template <class S>
void Writer<S>::EndStream() { session_->PostEndStream(); }
template <class S>
bool Writer<S>::Closed() const { return session_->closed(); }
template <class S>
void Writer<S>::OnClose(std::function<void()> fn) { session_->AddCloseCallback(std::move(fn)); }

}  // namespace

void Server::Impl::Accept() {
  acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (stopped) return;
    if (!ec) {
      socket.set_option(tcp::no_delay(true), ec);
      if (tls) {
        std::make_shared<Session<TlsStream>>(this, std::move(socket), *tls)->Start();
      } else {
        std::make_shared<Session<PlainStream>>(this, std::move(socket))->Start();
      }
    } else if (ec == net::error::no_descriptors) {
      LOG(ERROR) << "accept: " << ec.message();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    Accept();
  });
}

Server::Server(ServerOptions options, Handler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}

Server::~Server() { Stop(); }

Status Server::Start() {
  if (!impl_->options.tls_cert_file.empty() || !impl_->options.tls_key_file.empty()) {
    ASSIGN_OR_RETURN(impl_->tls, MakeTlsContext(impl_->options));
  } else if (!impl_->options.client_ca_file.empty()) {
    return BadRequest("a client CA needs a TLS certificate and key");
  }
  beast::error_code ec;
  auto addr = net::ip::make_address(impl_->options.bind_address, ec);
  if (ec) return BadRequest("invalid bind address \"" + impl_->options.bind_address + "\"");
  tcp::endpoint ep(addr, static_cast<unsigned short>(impl_->options.port));
  impl_->acceptor.open(ep.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(ep, ec);
  if (!ec) impl_->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return Unavailable("cannot listen on " + impl_->options.bind_address + ":" +
                       std::to_string(impl_->options.port) + ": " + ec.message());
  }
  impl_->bound_port = impl_->acceptor.local_endpoint().port();
  impl_->Accept();
  for (int i = 0; i < std::max(1, impl_->options.threads); ++i) {
    impl_->threads.emplace_back([this] { impl_->ioc.run(); });
  }
  return Status::Ok();
}

void Server::Stop() {
  if (impl_->stopped.exchange(true)) return;
  net::post(impl_->ioc, [this] {
    beast::error_code ec;
    impl_->acceptor.close(ec);
  });
  impl_->ioc.stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
}

int Server::port() const { return impl_->bound_port; }

}  // namespace kubepp::http
