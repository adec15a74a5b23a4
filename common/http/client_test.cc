#include <utility>  // before Boost: Asio 1.74 under C++20 needs std::exchange

#include "common/http/client.h"

#include <openssl/x509.h>
#include <unistd.h>

#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <chrono>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "common/http/server.h"

namespace kubepp::http {
namespace {

using namespace std::chrono_literals;

// A server whose handler answers by path; it records every peer address it saw.
struct TestServer {
  std::unique_ptr<Server> server;  // destroyed last: parked writers must not outlive it
  std::mutex mu;
  std::set<std::string> peers;
  std::vector<std::shared_ptr<ResponseWriter>> parked;  // requests never answered

  explicit TestServer(int port = 0) {
    ServerOptions opts;
    opts.port = port;
    server = std::make_unique<Server>(opts, [this](Request req, std::shared_ptr<ResponseWriter> w) {
      Handle(std::move(req), std::move(w));
    });
    REQUIRE(server->Start().ok());
  }
  ~TestServer() { server->Stop(); }

  std::string Url() { return "http://127.0.0.1:" + std::to_string(server->port()); }

  void Handle(Request req, std::shared_ptr<ResponseWriter> w) {
    {
      std::lock_guard lock(mu);
      peers.insert(req.remote_address);
    }
    if (req.path == "/echo") {
      Response r;
      r.content_type = "text/plain";
      r.headers.emplace_back("X-Method", req.method);
      r.body = req.method + " " + std::string(req.Header("content-type")) + " " +
               std::string(req.Header("authorization")) + " " + req.Query("q") + " " + req.body;
      w->Send(std::move(r));
    } else if (req.path == "/missing") {
      w->Send({404, "application/json", {},
               R"({"kind":"Status","apiVersion":"v1","status":"Failure","message":"pods \"x\" not found","reason":"NotFound","details":{"name":"x","kind":"pods"},"code":404})"});
    } else if (req.path == "/stream") {
      w->StartStream(200, "application/json");
      w->WriteChunk(std::string("{\"n\":1}\n{\"n\""));
      w->WriteChunk(std::string(":2}\n\n"));
      w->WriteChunk(std::string("{\"n\":3}\nlast"));
      w->EndStream();
    } else if (req.path == "/endless") {
      w->StartStream(200, "application/json");
      w->WriteChunk(std::string("first\n"));
      std::lock_guard lock(mu);
      parked.push_back(std::move(w));
    } else if (req.path == "/gone") {
      w->Send({410, "application/json", {},
               R"({"kind":"Status","status":"Failure","message":"too old resource version","reason":"Expired","code":410})"});
    } else if (req.path == "/hang") {
      std::lock_guard lock(mu);
      parked.push_back(std::move(w));
    } else {
      w->Send({500, "text/plain", {}, "boom"});
    }
  }
};

ClientOptions OptionsFor(const std::string& url) {
  ClientOptions o;
  o.server = url;
  return o;
}

std::unique_ptr<Client> NewClient(const std::string& url, int timeout = 5) {
  ClientOptions opts;
  opts.server = url;
  opts.bearer_token = "tok";
  opts.timeout_seconds = timeout;
  auto c = Client::Create(opts);
  REQUIRE(c.ok());
  return std::move(c).value();
}

TEST_CASE("http client: request and response round trip with keep-alive") {
  TestServer s;
  auto c = NewClient(s.Url());
  for (int i = 0; i < 3; ++i) {
    auto r = c->Do("POST", "/echo?q=a%20b", "hello", "application/yaml");
    REQUIRE(r.ok());
    CHECK(r->status == 200);
    CHECK(r->content_type == "text/plain");
    CHECK(r->body == "POST application/yaml Bearer tok a b hello");
    bool found = false;
    for (const auto& [k, v] : r->headers) found |= k == "x-method" && v == "POST";
    CHECK(found);
  }
  std::lock_guard lock(s.mu);
  CHECK(s.peers.size() == 1);  // one pooled connection served all three
}

TEST_CASE("http client: an HTTP error status is a response, not a failure") {
  TestServer s;
  auto c = NewClient(s.Url());
  auto r = c->Do("GET", "/missing");
  REQUIRE(r.ok());
  CHECK(r->status == 404);
  Status st = StatusFromHttp(r->status, r->body);
  CHECK(st.code() == Code::kNotFound);
  CHECK(st.message() == "pods \"x\" not found");
  REQUIRE(st.details() != nullptr);
  CHECK(st.details()->name == "x");
  Status plain = StatusFromHttp(500, "boom");
  CHECK(plain.code() == Code::kInternal);
  CHECK(plain.message() == "the server responded with HTTP 500: boom");
}

TEST_CASE("http client: concurrent callers share the pool") {
  TestServer s;
  auto c = NewClient(s.Url());
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        auto r = c->Do("GET", "/echo?q=" + std::to_string(t));
        if (r.ok() && r->body == "GET  Bearer tok " + std::to_string(t) + " ") ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(ok == 120);
  std::lock_guard lock(s.mu);
  CHECK(s.peers.size() <= 6);
}

TEST_CASE("http client: transport failures are Unavailable; bad options BadRequest") {
  int port;
  {
    TestServer s;
    port = s.server->port();
  }
  auto c = NewClient("http://127.0.0.1:" + std::to_string(port));
  auto r = c->Do("GET", "/echo");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kUnavailable);

  CHECK(Client::Create(OptionsFor("ftp://x")).status().code() == Code::kBadRequest);
  CHECK(Client::Create(OptionsFor("http://:80")).status().code() == Code::kBadRequest);
  CHECK(Client::Create(OptionsFor("http://h:8x")).status().code() == Code::kBadRequest);
  CHECK(Client::Create(OptionsFor("http://h:99999999999")).status().code() == Code::kBadRequest);
  ClientOptions tls;
  tls.server = "https://127.0.0.1:1";
  tls.ca_file = "/nonexistent/ca.crt";
  CHECK(Client::Create(tls).status().code() == Code::kBadRequest);
  tls.ca_file.clear();
  tls.client_cert_file = "/tmp/x.crt";
  CHECK(Client::Create(tls).status().code() == Code::kBadRequest);  // no key
  tls.client_cert_file.clear();
  tls.ca_data = "not a pem";
  CHECK(Client::Create(tls).status().code() == Code::kBadRequest);
  tls.ca_data.clear();
  tls.insecure_skip_verify = true;
  CHECK(Client::Create(tls).ok());
  CHECK(Client::Create(OptionsFor("http://[::1]:6443/prefix/")).ok());
}

TEST_CASE("http client: a request the server never answers times out") {
  TestServer s;
  auto c = NewClient(s.Url(), 1);
  auto start = std::chrono::steady_clock::now();
  auto r = c->Do("GET", "/hang");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kUnavailable);
  CHECK(std::chrono::steady_clock::now() - start < 3s);
}

TEST_CASE("http client: a pooled connection closed by a restarted server is replaced") {
  auto s = std::make_unique<TestServer>();
  int port = s->server->port();
  auto c = NewClient(s->Url());
  REQUIRE(c->Do("GET", "/echo").ok());
  s.reset();
  s = std::make_unique<TestServer>(port);
  auto r = c->Do("POST", "/echo", "x");
  REQUIRE(r.ok());
  CHECK(r->status == 200);
}

TEST_CASE("http client: StreamLines delivers lines across chunk boundaries") {
  TestServer s;
  auto c = NewClient(s.Url());
  std::vector<std::string> lines;
  Status st = c->StreamLines("/stream", [&](std::string_view l) {
    lines.emplace_back(l);
    return true;
  }, nullptr);
  REQUIRE(st.ok());
  CHECK(lines == std::vector<std::string>{"{\"n\":1}", "{\"n\":2}", "", "{\"n\":3}", "last"});
  // The connection went back to the pool after the stream ended.
  REQUIRE(c->Do("GET", "/echo").ok());
  std::lock_guard lock(s.mu);
  CHECK(s.peers.size() == 1);
}

TEST_CASE("http client: StreamLines stops when the handler says so or on stop") {
  TestServer s;
  auto c = NewClient(s.Url());
  int n = 0;
  Status st = c->StreamLines("/stream", [&](std::string_view) { return ++n < 2; }, nullptr);
  CHECK(st.ok());
  CHECK(n == 2);

  std::atomic<bool> stop{false};
  std::vector<std::string> lines;
  std::thread stopper([&] {
    std::this_thread::sleep_for(300ms);
    stop = true;
  });
  auto start = std::chrono::steady_clock::now();
  st = c->StreamLines("/endless", [&](std::string_view l) {
    lines.emplace_back(l);
    return true;
  }, &stop);
  auto took = std::chrono::steady_clock::now() - start;
  stopper.join();
  CHECK(st.ok());
  CHECK(lines == std::vector<std::string>{"first"});
  CHECK(took < 1s);
}

TEST_CASE("http client: StreamLines turns an error answer into its Status") {
  TestServer s;
  auto c = NewClient(s.Url());
  Status st = c->StreamLines("/gone", [](std::string_view) { return true; }, nullptr);
  CHECK(st.code() == Code::kGone);
  CHECK(st.message() == "too old resource version");
}

// A CA, a server certificate for 127.0.0.1/localhost, a client certificate and an
// unrelated CA, made with the openssl CLI so that their validity starts now.
struct Pki {
  std::string dir;
  bool ok = false;
  Pki() {
    char tmpl[] = "/tmp/client_test_pki_XXXXXX";
    dir = mkdtemp(tmpl);
    std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes ";
    std::string cmd =
        "cd " + dir + " && exec >/dev/null 2>&1 && "
        "openssl req -x509" + ec + "-keyout ca.key -out ca.crt -days 2 -subj /CN=ca && "
        "openssl req -x509" + ec + "-keyout other.key -out other.crt -days 2 -subj /CN=other && "
        "openssl req" + ec + "-keyout server.key -out server.csr -subj /CN=server && "
        "echo subjectAltName=IP:127.0.0.1,DNS:localhost > san.ext && "
        "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial "
        "-out server.crt -days 2 -extfile san.ext && "
        "openssl req" + ec + "-keyout client.key -out client.csr -subj /O=devs/O=ops/CN=admin && "
        "openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial "
        "-out client.crt -days 2";
    ok = std::system(cmd.c_str()) == 0;
  }
  ~Pki() { std::filesystem::remove_all(dir); }
  std::string File(const std::string& name) const { return dir + "/" + name; }
  std::string Read(const std::string& name) const {
    std::ifstream in(File(name));
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
};

// Answers each TLS connection's one request with "hello <client CN or ->" and closes.
struct TlsServer {
  boost::asio::io_context ioc;
  boost::asio::ssl::context ctx{boost::asio::ssl::context::tls_server};
  boost::asio::ip::tcp::acceptor acceptor{
      ioc, {boost::asio::ip::make_address("127.0.0.1"), 0}};
  std::thread thread;

  TlsServer(const Pki& pki, bool require_client_cert) {
    ctx.use_certificate_chain_file(pki.File("server.crt"));
    ctx.use_private_key_file(pki.File("server.key"), boost::asio::ssl::context::pem);
    if (require_client_cert) {
      ctx.load_verify_file(pki.File("ca.crt"));
      ctx.set_verify_mode(boost::asio::ssl::verify_peer |
                          boost::asio::ssl::verify_fail_if_no_peer_cert);
    }
    Accept();
    thread = std::thread([this] { ioc.run(); });
  }
  ~TlsServer() {
    ioc.stop();
    thread.join();
  }
  int port() const { return acceptor.local_endpoint().port(); }

  void Accept() {
    acceptor.async_accept([this](boost::system::error_code ec,
                                 boost::asio::ip::tcp::socket socket) {
      if (ec) return;
      namespace http = boost::beast::http;
      boost::beast::ssl_stream<boost::asio::ip::tcp::socket> stream(std::move(socket), ctx);
      stream.handshake(boost::asio::ssl::stream_base::server, ec);
      if (!ec) {
        boost::beast::flat_buffer buffer;
        http::request<http::string_body> req;
        http::read(stream, buffer, req, ec);
        std::string cn = "-";
        if (X509* cert = SSL_get1_peer_certificate(stream.native_handle())) {
          char buf[256];
          X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, buf, sizeof(buf));
          cn = buf;
          X509_free(cert);
        }
        http::response<http::string_body> res{http::status::ok, 11};
        res.body() = "hello " + cn;
        res.keep_alive(false);
        res.prepare_payload();
        if (!ec) http::write(stream, res, ec);
        stream.shutdown(ec);
      }
      Accept();
    });
  }
};

TEST_CASE("http client: https with CA verification, client certificates, skip-verify") {
  Pki pki;
  if (!pki.ok) {
    WARN("openssl CLI unavailable: TLS test skipped");
    return;
  }
  {
    TlsServer s(pki, false);
    std::string url = "https://127.0.0.1:" + std::to_string(s.port());
    ClientOptions o = OptionsFor(url);
    o.ca_file = pki.File("ca.crt");
    auto c = Client::Create(o);
    REQUIRE(c.ok());
    auto r = (*c)->Do("GET", "/");
    REQUIRE(r.ok());
    CHECK(r->body == "hello -");

    o.server = "https://localhost:" + std::to_string(s.port());  // DNS SAN, resolved name
    o.ca_file.clear();
    o.ca_data = pki.Read("ca.crt");
    r = Client::Create(o).value()->Do("GET", "/");
    REQUIRE(r.ok());
    CHECK(r->status == 200);

    o.server = url;
    o.ca_data = pki.Read("other.crt");
    r = Client::Create(o).value()->Do("GET", "/");
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::kUnavailable);
    CHECK(r.status().message().find("TLS handshake") != std::string::npos);

    o.ca_data.clear();
    o.insecure_skip_verify = true;
    r = Client::Create(o).value()->Do("GET", "/");
    REQUIRE(r.ok());
    CHECK(r->body == "hello -");
  }
  {
    TlsServer s(pki, true);
    ClientOptions o = OptionsFor("https://127.0.0.1:" + std::to_string(s.port()));
    o.ca_file = pki.File("ca.crt");
    auto r = Client::Create(o).value()->Do("GET", "/");
    CHECK_FALSE(r.ok());  // the server demands a client certificate

    o.client_cert_file = pki.File("client.crt");
    o.client_key_file = pki.File("client.key");
    r = Client::Create(o).value()->Do("GET", "/");
    REQUIRE(r.ok());
    CHECK(r->body == "hello admin");

    o.client_cert_file.clear();
    o.client_key_file.clear();
    o.client_cert_data = pki.Read("client.crt");
    o.client_key_data = pki.Read("client.key");
    r = Client::Create(o).value()->Do("GET", "/");
    REQUIRE(r.ok());
    CHECK(r->body == "hello admin");

    o.client_key_data = pki.Read("server.key");  // does not match the certificate
    CHECK(Client::Create(o).status().code() == Code::kBadRequest);
  }
}

TEST_CASE("http server: https with optional, verified client certificates") {
  Pki pki;
  if (!pki.ok) {
    WARN("openssl CLI unavailable: TLS test skipped");
    return;
  }
  ServerOptions so;
  so.tls_cert_file = pki.File("server.crt");
  so.tls_key_file = pki.File("server.key");
  so.client_ca_file = pki.File("ca.crt");
  Server server(so, [](Request req, std::shared_ptr<ResponseWriter> w) {
    std::string orgs;
    for (const auto& o : req.peer_orgs) orgs += (orgs.empty() ? "" : ",") + o;
    std::string who = "cn=" + req.peer_cn + " orgs=" + orgs + "\n";
    if (req.path == "/stream") {  // chunked streaming goes through TLS as well
      w->StartStream(200, "application/json");
      w->WriteChunk(who);
      w->WriteChunk(std::string("second\n"));
      w->EndStream();
      return;
    }
    w->Send({200, "text/plain", {}, who});
  });
  REQUIRE(server.Start().ok());
  ClientOptions o = OptionsFor("https://127.0.0.1:" + std::to_string(server.port()));
  o.ca_file = pki.File("ca.crt");

  auto anonymous = Client::Create(o).value();  // no certificate: let in, unnamed
  for (int i = 0; i < 2; ++i) {                // and again on the kept-alive connection
    auto r = anonymous->Do("GET", "/");
    REQUIRE(r.ok());
    CHECK(r->body == "cn= orgs=\n");
  }

  o.client_cert_file = pki.File("client.crt");
  o.client_key_file = pki.File("client.key");
  auto admin = Client::Create(o).value();
  auto r = admin->Do("GET", "/");
  REQUIRE(r.ok());
  CHECK(r->body == "cn=admin orgs=devs,ops\n");
  std::vector<std::string> lines;
  REQUIRE(admin->StreamLines("/stream", [&](std::string_view l) {
    lines.emplace_back(l);
    return true;
  }, nullptr).ok());
  CHECK(lines == std::vector<std::string>{"cn=admin orgs=devs,ops", "second"});

  o.client_cert_file = pki.File("other.crt");  // not issued by the client CA
  o.client_key_file = pki.File("other.key");
  CHECK_FALSE(Client::Create(o).value()->Do("GET", "/").ok());

  ClientOptions plain = OptionsFor("http://127.0.0.1:" + std::to_string(server.port()));
  plain.timeout_seconds = 5;
  r = Client::Create(plain).value()->Do("GET", "/");
  CHECK((!r.ok() || r->status != 200));  // plain HTTP gets no answer from a TLS port

  ServerOptions bad = so;
  bad.tls_key_file = pki.File("client.key");
  CHECK(Server(bad, nullptr).Start().code() == Code::kBadRequest);
  bad = ServerOptions();
  bad.client_ca_file = pki.File("ca.crt");
  CHECK(Server(bad, nullptr).Start().code() == Code::kBadRequest);
}

}  // namespace
}  // namespace kubepp::http
