// The cluster DNS server: UDP and TCP on one address and port. Names in the cluster
// domain are answered from the Zone; other names are relayed to upstream resolvers, which
// must be on this machine (loopback or a local address): with none, such queries get
// SERVFAIL, so the server never sends traffic off the machine on its own.
//
// UDP answers larger than the client's limit (512 bytes, or its EDNS payload size up to
// 1232) are truncated (TC set, no records) so that the client retries over TCP.
// Thread safety: Start/Stop from one thread; Handle from any thread.
#pragma once

#include <netinet/in.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/status.h"
#include "proxy/dns/zone.h"

namespace kubepp::proxy::dns {

struct Upstream {
  std::string ip;
  int port = 53;
};

// The nameservers of a resolv.conf text that `is_local` accepts (an address of this
// machine), minus `self` (the server's own address and port, to avoid loops).
std::vector<Upstream> LocalNameservers(const std::string& resolv_conf_text,
                                       const std::function<bool(const std::string&)>& is_local,
                                       const Upstream& self);
// Whether `ip` is loopback or an address of one of this host's interfaces.
bool IsLocalAddress(const std::string& ip);

struct ServerOptions {
  std::string address = "10.96.0.10";
  int port = 53;  // 0: any free port (tests), see udp_port()/tcp_port()
  AnswerOptions answer;
  std::vector<Upstream> upstreams;
  int max_workers = 64;  // concurrent TCP connections + forwarded UDP queries
};

class Server {
 public:
  // `zone` must outlive the server.
  Server(ServerOptions options, const Zone* zone);
  ~Server();  // Stop()
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  Status Start();
  void Stop();
  int udp_port() const { return udp_port_; }
  int tcp_port() const { return tcp_port_; }

  // The reply to one query (wire format), at most `max_size` bytes; forwards (blocking)
  // names outside the domain. "" when the query is too broken to answer at all.
  std::string Handle(std::string_view query, size_t max_size);

 private:
  // Opens and binds both sockets to addr (TCP on the port UDP got); closes them on error.
  Status BindSockets(sockaddr_in addr);
  void CloseSockets();
  void UdpLoop();
  void TcpLoop();
  void ServeConnection(int fd);
  std::string Forward(std::string_view query, const Message& parsed, size_t max_size);
  // Runs fn on a new worker thread unless max_workers are busy (then returns false).
  bool Spawn(std::function<void()> fn);

  ServerOptions options_;
  const Zone* zone_;
  int udp_fd_ = -1, tcp_fd_ = -1;
  int udp_port_ = 0, tcp_port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread udp_thread_, tcp_thread_;
  std::mutex mu_;
  std::condition_variable idle_;
  int workers_ = 0;
  std::set<int> connections_;  // open TCP connections, shut down by Stop()
};

}  // namespace kubepp::proxy::dns
