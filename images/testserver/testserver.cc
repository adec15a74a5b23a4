// testserver: kubepp's own test workload, in the spirit of Kubernetes' agnhost. One
// static binary, no libraries, so the image is this file alone.
//
//   testserver serve-hostname [--port 8080] [--shutdown-delay S]
//                                              HTTP: GET / and /hostname -> the hostname;
//                                              /healthz -> 200, or 500 after GET /fail
//                                              (GET /recover undoes it); /echo?msg=x -> x;
//                                              /exit?code=N -> exits with N. On SIGTERM it
//                                              serves S more seconds (default 0), then exits 0
//                                              (agnhost's --delay-shutdown: what lets a rolling
//                                              update drop no request)
//   testserver echo [--port 9000]              TCP and UDP echo
//   testserver exit [--code N] [--after SECONDS]
//   testserver alloc --mb N                    allocates and touches N MiB, then sleeps
//   testserver pause                           sleeps until SIGTERM/SIGINT
// Every line it logs goes to stdout (what `kubectl logs` shows).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

std::atomic<bool> g_healthy{true};

std::string Flag(int argc, char** argv, const char* name, const char* fallback) {
  for (int i = 2; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
  }
  return fallback;
}

std::string Hostname() {
  char buf[256] = {};
  gethostname(buf, sizeof buf - 1);
  return buf;
}

int Listen(int type, int port) {
  int fd = socket(AF_INET, type, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_ANY);
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    std::perror("bind");
    std::exit(1);
  }
  if (type == SOCK_STREAM) listen(fd, 128);
  return fd;
}

void Reply(int fd, int code, const std::string& body) {
  const char* reason = code == 200 ? "OK" : code == 404 ? "Not Found" : "Internal Server Error";
  std::string r = "HTTP/1.1 " + std::to_string(code) + " " + reason +
                  "\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: " +
                  std::to_string(body.size()) + "\r\n\r\n" + body;
  ssize_t ignored = write(fd, r.data(), r.size());
  (void)ignored;
}

std::string QueryParam(const std::string& target, const std::string& key) {
  size_t q = target.find('?');
  if (q == std::string::npos) return "";
  std::string query = target.substr(q + 1);
  size_t p = 0;
  while (p < query.size()) {
    size_t amp = query.find('&', p);
    std::string kv = query.substr(p, amp == std::string::npos ? std::string::npos : amp - p);
    if (kv.rfind(key + "=", 0) == 0) return kv.substr(key.size() + 1);
    if (amp == std::string::npos) break;
    p = amp + 1;
  }
  return "";
}

void HandleHttp(int fd) {
  std::string req;
  char buf[4096];
  while (req.find("\r\n\r\n") == std::string::npos && req.size() < 65536) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    req.append(buf, static_cast<size_t>(n));
  }
  size_t sp1 = req.find(' '), sp2 = req.find(' ', sp1 + 1);
  std::string target = sp1 == std::string::npos ? "/" : req.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string path = target.substr(0, target.find('?'));
  std::printf("%s %s\n", req.substr(0, sp1).c_str(), target.c_str());
  std::fflush(stdout);
  if (path == "/" || path == "/hostname") {
    Reply(fd, 200, Hostname());
  } else if (path == "/healthz") {
    Reply(fd, g_healthy ? 200 : 500, g_healthy ? "ok" : "failing");
  } else if (path == "/fail") {
    g_healthy = false;
    Reply(fd, 200, "healthz now fails");
  } else if (path == "/recover") {
    g_healthy = true;
    Reply(fd, 200, "healthz now passes");
  } else if (path == "/echo") {
    Reply(fd, 200, QueryParam(target, "msg"));
  } else if (path == "/exit") {
    Reply(fd, 200, "exiting");
    close(fd);
    std::exit(std::atoi(QueryParam(target, "code").c_str()));
  } else {
    Reply(fd, 404, "not found");
  }
  close(fd);
}

// Exits 0 `delay` seconds after SIGTERM or SIGINT. Call before any thread starts: the
// signals stay blocked in every thread but the waiting one.
void ExitAfterSignal(int delay) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigprocmask(SIG_BLOCK, &set, nullptr);
  std::thread([set, delay] {
    int sig = 0;
    sigwait(&set, &sig);
    std::printf("signal %d, exiting in %ds\n", sig, delay);
    std::fflush(stdout);
    if (delay > 0) sleep(static_cast<unsigned>(delay));
    std::exit(0);
  }).detach();
}

int ServeHostname(int port, int shutdown_delay) {
  ExitAfterSignal(shutdown_delay);
  int fd = Listen(SOCK_STREAM, port);
  std::printf("serving hostname %s on :%d\n", Hostname().c_str(), port);
  std::fflush(stdout);
  for (;;) {
    int c = accept(fd, nullptr, nullptr);
    if (c >= 0) std::thread(HandleHttp, c).detach();
  }
}

int Echo(int port) {
  int udp = Listen(SOCK_DGRAM, port);
  std::thread([udp] {
    char buf[65536];
    for (;;) {
      sockaddr_in from{};
      socklen_t len = sizeof from;
      ssize_t n = recvfrom(udp, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
      if (n > 0) sendto(udp, buf, static_cast<size_t>(n), 0, reinterpret_cast<sockaddr*>(&from), len);
    }
  }).detach();
  int tcp = Listen(SOCK_STREAM, port);
  std::printf("echo on tcp and udp :%d\n", port);
  std::fflush(stdout);
  for (;;) {
    int c = accept(tcp, nullptr, nullptr);
    if (c < 0) continue;
    std::thread([c] {
      char buf[65536];
      ssize_t n;
      while ((n = read(c, buf, sizeof buf)) > 0) {
        if (write(c, buf, static_cast<size_t>(n)) != n) break;
      }
      close(c);
    }).detach();
  }
}

int Pause() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigprocmask(SIG_BLOCK, &set, nullptr);
  int sig = 0;
  sigwait(&set, &sig);
  std::printf("signal %d, exiting\n", sig);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  std::string cmd = argc > 1 ? argv[1] : "";
  if (cmd == "serve-hostname") {
    return ServeHostname(std::atoi(Flag(argc, argv, "--port", "8080").c_str()),
                         std::atoi(Flag(argc, argv, "--shutdown-delay", "0").c_str()));
  }
  if (cmd == "echo") return Echo(std::atoi(Flag(argc, argv, "--port", "9000").c_str()));
  if (cmd == "exit") {
    int after = std::atoi(Flag(argc, argv, "--after", "0").c_str());
    int code = std::atoi(Flag(argc, argv, "--code", "0").c_str());
    std::printf("exiting with %d after %ds\n", code, after);
    std::fflush(stdout);
    if (after > 0) sleep(static_cast<unsigned>(after));
    return code;
  }
  if (cmd == "alloc") {
    size_t mb = std::strtoul(Flag(argc, argv, "--mb", "0").c_str(), nullptr, 10);
    std::vector<char> block(mb << 20);
    for (size_t i = 0; i < block.size(); i += 4096) block[i] = 1;  // make it resident
    std::printf("allocated %zu MiB\n", mb);
    std::fflush(stdout);
    return Pause();
  }
  if (cmd == "pause") return Pause();
  std::fprintf(stderr,
               "usage: testserver serve-hostname [--port N] [--shutdown-delay S] | echo [--port N] | exit [--code N] [--after S] "
               "| alloc --mb N | pause\n");
  return 2;
}
