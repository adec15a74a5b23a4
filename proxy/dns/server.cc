#include "proxy/dns/server.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>

#include "common/log.h"
#include "common/metrics.h"

namespace kubepp::proxy::dns {
namespace {

constexpr size_t kMaxUdpPlain = 512;
constexpr size_t kMaxUdpEdns = 1232;  // the DNS flag day 2020 default
constexpr int kForwardTimeoutMs = 2000;
constexpr int kTcpIdleSeconds = 10;

metrics::CounterVec& Requests() {
  static auto& c = metrics::Registry::Default().AddCounterVec(
      "kubepp_dns_requests_total", "DNS queries by transport and outcome.", {"proto", "result"});
  return c;
}

sockaddr_in Addr(const std::string& ip, int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
  return a;
}

// Reads exactly n bytes (the socket has a receive timeout).
bool ReadFull(int fd, char* buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(fd, buf + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    got += static_cast<size_t>(r);
  }
  return true;
}

bool WriteFull(int fd, const std::string& data) {
  size_t sent = 0;
  while (sent < data.size()) {
    ssize_t w = send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    sent += static_cast<size_t>(w);
  }
  return true;
}

// The UDP size limit a query asks for.
size_t UdpLimit(const Message& q) {
  for (const auto& r : q.additional) {
    if (r.type == kOPT) return std::clamp<size_t>(r.klass, kMaxUdpPlain, kMaxUdpEdns);
  }
  return kMaxUdpPlain;
}

}  // namespace

bool IsLocalAddress(const std::string& ip) {
  in_addr a{};
  if (inet_pton(AF_INET, ip.c_str(), &a) != 1) return false;
  if ((ntohl(a.s_addr) >> 24) == 127) return true;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return false;
  bool found = false;
  for (ifaddrs* i = list; i && !found; i = i->ifa_next) {
    if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET) {
      found = reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr.s_addr == a.s_addr;
    }
  }
  freeifaddrs(list);
  return found;
}

std::vector<Upstream> LocalNameservers(const std::string& text,
                                       const std::function<bool(const std::string&)>& is_local,
                                       const Upstream& self) {
  std::vector<Upstream> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string key, ip;
    if (!(words >> key >> ip) || key != "nameserver") continue;
    in_addr a{};
    if (inet_pton(AF_INET, ip.c_str(), &a) != 1) continue;  // IPv6 resolvers: not supported
    if (ip == self.ip && self.port == 53) continue;
    if (is_local(ip)) out.push_back({ip, 53});
  }
  return out;
}

Server::Server(ServerOptions options, const Zone* zone) : options_(std::move(options)), zone_(zone) {}

Server::~Server() { Stop(); }

Status Server::BindSockets(sockaddr_in addr) {
  CloseSockets();
  udp_fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  tcp_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(tcp_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  // Nodes that share one network namespace (`kubepp up` runs them so) each run a proxy
  // serving the one cluster DNS address: they bind it together and the kernel spreads
  // the queries; every one holds the whole zone, and any one of them may restart. A
  // port picked by the kernel (0) is never shared.
  if (options_.port != 0) {
    setsockopt(udp_fd_, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    setsockopt(tcp_fd_, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  }
  if (bind(udp_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    Status st = Unavailable("DNS: bind udp " + options_.address + ":" +
                            std::to_string(options_.port) + ": " + strerror(errno));
    CloseSockets();
    return st;
  }
  sockaddr_in bound{};
  socklen_t len = sizeof bound;
  getsockname(udp_fd_, reinterpret_cast<sockaddr*>(&bound), &len);
  udp_port_ = ntohs(bound.sin_port);
  // TCP on the same port as UDP (which picked it when the port was 0).
  addr.sin_port = bound.sin_port;
  if (bind(tcp_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(tcp_fd_, 128) != 0) {
    Status st = Unavailable("DNS: bind tcp " + options_.address + ":" + std::to_string(udp_port_) +
                            ": " + strerror(errno));
    CloseSockets();
    return st;
  }
  return Status::Ok();
}

void Server::CloseSockets() {
  if (udp_fd_ >= 0) close(udp_fd_);
  if (tcp_fd_ >= 0) close(tcp_fd_);
  udp_fd_ = tcp_fd_ = -1;
}

Status Server::Start() {
  sockaddr_in addr = Addr(options_.address, options_.port);
  if (addr.sin_addr.s_addr == 0 && options_.address != "0.0.0.0") {
    return BadRequest("cluster DNS address is not IPv4: " + options_.address);
  }
  // Port 0 lets UDP pick a free port, which TCP may find taken: try another one then.
  Status st = Status::Ok();
  for (int attempt = 0; attempt < 20; ++attempt) {
    st = BindSockets(addr);
    if (st.ok() || options_.port != 0) break;
  }
  if (!st.ok()) return st;
  tcp_port_ = udp_port_;
  udp_thread_ = std::thread([this] { UdpLoop(); });
  tcp_thread_ = std::thread([this] { TcpLoop(); });
  LOG(INFO) << "dns: serving " << options_.answer.domain << " on " << options_.address << ":"
            << udp_port_ << " (udp, tcp); " << options_.upstreams.size() << " local upstream(s)";
  return Status::Ok();
}

void Server::Stop() {
  stopping_ = true;
  if (udp_thread_.joinable()) udp_thread_.join();
  if (tcp_thread_.joinable()) tcp_thread_.join();
  {
    std::unique_lock lock(mu_);
    for (int fd : connections_) shutdown(fd, SHUT_RDWR);
    idle_.wait(lock, [&] { return workers_ == 0; });
  }
  CloseSockets();
}

bool Server::Spawn(std::function<void()> fn) {
  std::lock_guard lock(mu_);
  if (workers_ >= options_.max_workers || stopping_) return false;
  ++workers_;
  std::thread([this, fn = std::move(fn)] {
    fn();
    std::lock_guard lock(mu_);
    if (--workers_ == 0) idle_.notify_all();
  }).detach();  // Stop() waits for workers_ to reach 0
  return true;
}

std::string Server::Handle(std::string_view wire, size_t max_size) {
  auto parsed = Parse(wire);
  if (!parsed.ok()) {
    if (wire.size() < 12) return "";
    // Answer FORMERR with the header's id so that the client does not wait.
    Message m;
    m.id = static_cast<uint16_t>((uint8_t(wire[0]) << 8) | uint8_t(wire[1]));
    m.response = true;
    m.rcode = kFormErr;
    return Encode(m, max_size);
  }
  Message reply;
  if (Answer(*parsed, *zone_, options_.answer, &reply) == Disposition::kForward) {
    return Forward(wire, *parsed, max_size);
  }
  return Encode(reply, max_size);
}

std::string Server::Forward(std::string_view query, const Message& parsed, size_t max_size) {
  for (const auto& up : options_.upstreams) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) break;
    sockaddr_in a = Addr(up.ip, up.port);
    std::string buf(65535, '\0');
    ssize_t n = -1;
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
        send(fd, query.data(), query.size(), 0) == static_cast<ssize_t>(query.size())) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, kForwardTimeoutMs) == 1) n = recv(fd, buf.data(), buf.size(), 0);
    }
    close(fd);
    if (n >= 12 && buf[0] == query[0] && buf[1] == query[1]) {
      buf.resize(static_cast<size_t>(n));
      if (buf.size() <= max_size) return buf;
      // Too big for the client's UDP limit: send just the header + question, truncated.
      auto m = Parse(buf);
      if (m.ok()) return Encode(*m, max_size);
    }
  }
  Message fail;
  fail.id = parsed.id;
  fail.response = true;
  fail.recursion_desired = parsed.recursion_desired;
  fail.recursion_available = true;
  fail.questions = parsed.questions;
  fail.rcode = kServFail;
  return Encode(fail, max_size);
}

void Server::UdpLoop() {
  std::string buf(65535, '\0');
  while (!stopping_) {
    pollfd p{udp_fd_, POLLIN, 0};
    if (poll(&p, 1, 200) != 1) continue;
    sockaddr_in from{};
    socklen_t len = sizeof from;
    ssize_t n = recvfrom(udp_fd_, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &len);
    if (n <= 0) continue;
    std::string query(buf.data(), static_cast<size_t>(n));
    auto send_to_client = [this, from](const std::string& out) {
      if (out.empty()) return;
      sendto(udp_fd_, out.data(), out.size(), 0, reinterpret_cast<const sockaddr*>(&from), sizeof from);
    };
    auto parsed = Parse(query);
    Message reply;
    if (!parsed.ok()) {
      send_to_client(Handle(query, kMaxUdpPlain));  // FORMERR
      Requests().WithLabelValues({"udp", "malformed"}).Inc();
    } else if (Answer(*parsed, *zone_, options_.answer, &reply) == Disposition::kAnswered) {
      send_to_client(Encode(reply, UdpLimit(*parsed)));
      Requests().WithLabelValues({"udp", "answered"}).Inc();
    } else if (Spawn([this, send_to_client, query = std::move(query), q = std::move(*parsed)] {
                 send_to_client(Forward(query, q, UdpLimit(q)));
               })) {  // forwarding blocks: off the receive loop
      Requests().WithLabelValues({"udp", "forwarded"}).Inc();
    } else {
      Requests().WithLabelValues({"udp", "dropped"}).Inc();
    }
  }
}

void Server::TcpLoop() {
  while (!stopping_) {
    pollfd p{tcp_fd_, POLLIN, 0};
    if (poll(&p, 1, 200) != 1) continue;
    int fd = accept4(tcp_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    timeval tv{kTcpIdleSeconds, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    {
      std::lock_guard lock(mu_);
      connections_.insert(fd);
    }
    if (!Spawn([this, fd] { ServeConnection(fd); })) {
      std::lock_guard lock(mu_);
      connections_.erase(fd);
      close(fd);
    }
  }
}

void Server::ServeConnection(int fd) {
  // RFC 7766: several queries may come on one connection, each with a 2-byte length.
  while (!stopping_) {
    unsigned char len_buf[2];
    if (!ReadFull(fd, reinterpret_cast<char*>(len_buf), 2)) break;
    size_t len = (size_t(len_buf[0]) << 8) | len_buf[1];
    std::string query(len, '\0');
    if (len == 0 || !ReadFull(fd, query.data(), len)) break;
    std::string out = Handle(query, 65535);
    Requests().WithLabelValues({"tcp", "answered"}).Inc();
    if (out.empty()) break;
    std::string framed;
    framed += static_cast<char>(out.size() >> 8);
    framed += static_cast<char>(out.size() & 0xFF);
    framed += out;
    if (!WriteFull(fd, framed)) break;
  }
  std::lock_guard lock(mu_);
  connections_.erase(fd);
  close(fd);
}

}  // namespace kubepp::proxy::dns
