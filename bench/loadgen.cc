// loadgen: a small HTTP/1.1 load generator for the apiserver benchmarks (and the
// same load against etcd's JSON gateway, for comparison). Blocking keep-alive sockets,
// one per worker thread; prints one result line per run.
//
//   loadgen create  --url http://127.0.0.1:6443/api/v1/namespaces/default/configmaps
//                   --concurrency 64 --seconds 10 --body-bytes 1024 [--etcd]
//   loadgen get     --url URL --concurrency 16 --seconds 5
//   loadgen fill    --url URL --count 10000 --concurrency 32 --kind pod
//   loadgen latency --url URL --accept TYPE --count 20           (one GET, repeated)
//   loadgen watch   --url BASE --watchers 1000 --events 200      (watch delivery latency)
//   loadgen watch   --url http://127.0.0.1:2379/v3 --etcd ...    (the same against etcd)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Url {
  std::string host = "127.0.0.1";
  int port = 80;
  std::string path = "/";
};

Url ParseUrl(const std::string& s) {
  Url u;
  std::string rest = s.substr(s.find("://") + 3);
  size_t slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  u.path = slash == std::string::npos ? "/" : rest.substr(slash);
  size_t colon = hostport.find(':');
  u.host = hostport.substr(0, colon);
  if (colon != std::string::npos) u.port = std::atoi(hostport.c_str() + colon + 1);
  return u;
}

int Connect(const Url& u) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(u.port));
  inet_pton(AF_INET, u.host.c_str(), &a.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    std::perror("connect");
    std::exit(2);
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

bool WriteAll(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = write(fd, s.data() + off, s.size() - off);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

// Reads one Content-Length response; returns the status code (0 on error).
int ReadResponse(int fd, std::string& buf, std::string* body) {
  for (;;) {
    size_t hdr_end = buf.find("\r\n\r\n");
    if (hdr_end != std::string::npos) {
      int status = std::atoi(buf.c_str() + 9);
      size_t cl = 0;
      std::string headers = buf.substr(0, hdr_end);
      for (auto& c : headers) c = static_cast<char>(std::tolower(c));
      size_t p = headers.find("content-length:");
      if (p != std::string::npos) cl = std::strtoul(headers.c_str() + p + 15, nullptr, 10);
      size_t total = hdr_end + 4 + cl;
      while (buf.size() < total) {
        char tmp[65536];
        ssize_t n = read(fd, tmp, sizeof tmp);
        if (n <= 0) return 0;
        buf.append(tmp, static_cast<size_t>(n));
      }
      if (body) *body = buf.substr(hdr_end + 4, cl);
      buf.erase(0, total);
      return status;
    }
    char tmp[65536];
    ssize_t n = read(fd, tmp, sizeof tmp);
    if (n <= 0) return 0;
    buf.append(tmp, static_cast<size_t>(n));
  }
}

std::string Request(const std::string& method, const Url& u, const std::string& path,
                    const std::string& body, const std::string& accept = "application/json") {
  std::string r = method + " " + path + " HTTP/1.1\r\nHost: " + u.host + "\r\nAccept: " + accept +
                  "\r\nContent-Type: application/json\r\nContent-Length: " +
                  std::to_string(body.size()) + "\r\n\r\n";
  return r + body;
}

std::string Base64(const std::string& in) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += {k[v >> 18], k[(v >> 12) & 63], k[(v >> 6) & 63], k[v & 63]};
  }
  if (i + 1 == in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    out += {k[v >> 18], k[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += {k[v >> 18], k[(v >> 12) & 63], k[(v >> 6) & 63], '='};
  }
  return out;
}

std::string Unbase64(std::string_view in) {
  std::string out;
  uint32_t v = 0;
  int bits = 0;
  for (char c : in) {
    int d = c >= 'A' && c <= 'Z'   ? c - 'A'
            : c >= 'a' && c <= 'z' ? c - 'a' + 26
            : c >= '0' && c <= '9' ? c - '0' + 52
            : c == '+'             ? 62
            : c == '/'             ? 63
                                   : -1;
    if (d < 0) break;
    v = (v << 6) | static_cast<uint32_t>(d);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((v >> bits) & 0xff));
    }
  }
  return out;
}

// The object a create sends: a ConfigMap (or Pod) padded to about `bytes`.
std::string Body(const std::string& kind, const std::string& name, size_t bytes, bool etcd) {
  std::string pad(bytes > 200 ? bytes - 200 : 0, 'x');
  std::string t = std::to_string(NowMicros());
  if (etcd) {
    std::string value = R"({"kind":"ConfigMap","metadata":{"name":")" + name + R"("},"data":{"t":")" +
                        t + R"(","pad":")" + pad + "\"}}";
    return R"({"key":")" + Base64("/registry/configmaps/default/" + name) + R"(","value":")" +
           Base64(value) + "\"}";
  }
  if (kind == "pod") {
    return R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":")" + name +
           R"(","labels":{"app":"bench"},"annotations":{"t":")" + t + R"(","pad":")" + pad +
           R"("}},"spec":{"nodeName":"node-)" + std::to_string(std::hash<std::string>{}(name) % 100) +
           R"(","containers":[{"name":"c","image":"busybox:1.36","command":["sleep","3600"]}]}})";
  }
  return R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":")" + name +
         R"(","labels":{"app":"bench"}},"data":{"t":")" + t + R"(","pad":")" + pad + "\"}}";
}

struct Stats {
  std::mutex mu;
  std::vector<double> lat_ms;
  int64_t errors = 0;
  void Add(double ms) {
    std::lock_guard<std::mutex> l(mu);
    lat_ms.push_back(ms);
  }
};

double Pct(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = std::min(v.size() - 1, static_cast<size_t>(p * v.size()));
  return v[i];
}

std::string Flag(int argc, char** argv, const std::string& name, const std::string& def) {
  for (int i = 2; i + 1 < argc; ++i) {
    if (argv[i] == "--" + name) return argv[i + 1];
  }
  return def;
}

bool HasFlag(int argc, char** argv, const std::string& name) {
  for (int i = 2; i < argc; ++i) {
    if (argv[i] == "--" + name) return true;
  }
  return false;
}

// Runs `concurrency` workers issuing `method` requests for `seconds` (or until `count`).
void RunLoad(const std::string& mode, const Url& u, int concurrency, double seconds, int64_t count,
             size_t body_bytes, bool etcd, const std::string& kind) {
  Stats stats;
  std::atomic<int64_t> next{0};
  auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
  auto start = Clock::now();
  std::string run_id = std::to_string(NowMicros() % 100000000);
  std::vector<std::thread> ts;
  for (int t = 0; t < concurrency; ++t) {
    ts.emplace_back([&, t] {
      int fd = Connect(u);
      std::string buf;
      for (;;) {
        int64_t i = next++;
        if (count > 0 ? i >= count : Clock::now() >= deadline) break;
        std::string req;
        if (mode == "get") {
          req = Request("GET", u, u.path, "");
        } else {
          std::string name = kind + "-" + run_id + "-" + std::to_string(i);
          req = Request("POST", u, u.path, Body(kind, name, body_bytes, etcd));
        }
        auto t0 = Clock::now();
        if (!WriteAll(fd, req)) break;
        int status = ReadResponse(fd, buf, nullptr);
        double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        if (status >= 200 && status < 300) {
          stats.Add(ms);
        } else {
          std::lock_guard<std::mutex> l(stats.mu);
          stats.errors++;
          if (status == 0) break;
        }
      }
      close(fd);
      (void)t;
    });
  }
  for (auto& t : ts) t.join();
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  size_t ok = stats.lat_ms.size();
  std::printf("%s concurrency=%d ok=%zu errors=%lld rate=%.0f/s p50=%.2fms p99=%.2fms\n",
              mode.c_str(), concurrency, ok, static_cast<long long>(stats.errors), ok / secs,
              Pct(stats.lat_ms, 0.5), Pct(stats.lat_ms, 0.99));
}

// Reads chunked watch streams on many sockets; every event line carries its creation
// time ("t" annotation/data, microseconds since the epoch). With `etcd`, `base` is etcd's
// JSON gateway (.../v3): the watchers stream POST /v3/watch on the configmaps prefix,
// whose events carry the value base64-encoded, and the writes are puts.
void RunWatch(const Url& base, int watchers, int events, size_t body_bytes, bool etcd) {
  std::vector<int> fds;
  std::string watch_path = base.path + "?watch=1&resourceVersion=";
  std::string watch_request = Request("GET", base, watch_path, "");
  std::string put_path = base.path;
  if (etcd) {
    std::string prefix = "/registry/configmaps/default/";
    watch_request = Request("POST", base, base.path + "/watch",
                            R"({"create_request":{"key":")" + Base64(prefix) +
                                R"(","range_end":")" + Base64("/registry/configmaps/default0") +
                                "\"}}");
    put_path = base.path + "/kv/put";
  } else {
    // Start from "now": list first to get the revision.
    int fd = Connect(base);
    std::string buf, body;
    WriteAll(fd, Request("GET", base, base.path + "?limit=1", ""));
    ReadResponse(fd, buf, &body);
    close(fd);
    size_t p = body.find("\"resourceVersion\":\"");
    std::string rv = p == std::string::npos ? "0" : body.substr(p + 19, body.find('"', p + 19) - p - 19);
    watch_request = Request("GET", base, watch_path + rv, "");
  }
  for (int i = 0; i < watchers; ++i) {
    int fd = Connect(base);
    WriteAll(fd, watch_request);
    fds.push_back(fd);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  Stats stats;
  std::atomic<bool> done{false};
  int closed_streams = 0;  // watch streams the server ended early
  std::thread reader([&] {
    int ep = epoll_create1(0);
    for (size_t i = 0; i < fds.size(); ++i) {
      epoll_event e{};
      e.events = EPOLLIN;
      e.data.u64 = i;
      epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &e);
    }
    std::vector<std::string> bufs(fds.size());
    std::vector<epoll_event> ready(1024);
    int64_t expected = static_cast<int64_t>(watchers) * events, got = 0;
    auto until = Clock::now() + std::chrono::seconds(60);
    while (got < expected && Clock::now() < until) {
      int n = epoll_wait(ep, ready.data(), static_cast<int>(ready.size()), 200);
      int64_t now = NowMicros();
      for (int k = 0; k < n; ++k) {
        size_t i = ready[k].data.u64;
        char tmp[65536];
        ssize_t r = read(fds[i], tmp, sizeof tmp);
        if (r <= 0) {
          epoll_ctl(ep, EPOLL_CTL_DEL, fds[i], nullptr);
          ++closed_streams;
          continue;
        }
        bufs[i].append(tmp, static_cast<size_t>(r));
        size_t pos;
        if (etcd) {  // decode each complete value in place
          while ((pos = bufs[i].find("\"value\":\"")) != std::string::npos) {
            size_t end = bufs[i].find('"', pos + 9);
            if (end == std::string::npos) break;
            std::string value = Unbase64(std::string_view(bufs[i]).substr(pos + 9, end - pos - 9));
            bufs[i].replace(pos, end + 1 - pos, value);
          }
        }
        while ((pos = bufs[i].find("\"t\":\"")) != std::string::npos) {
          int64_t t = std::atoll(bufs[i].c_str() + pos + 5);
          stats.Add((now - t) / 1000.0);
          ++got;
          bufs[i].erase(0, pos + 5);
        }
        if (bufs[i].size() > (1 << 20)) bufs[i].erase(0, bufs[i].size() - 64);
      }
    }
    close(ep);
    done = true;
  });
  int fd = Connect(base);
  std::string buf;
  std::string run_id = std::to_string(NowMicros() % 100000000);
  Stats create;
  for (int i = 0; i < events; ++i) {
    auto t0 = Clock::now();
    WriteAll(fd, Request("POST", base, put_path,
                         Body("cm", "w-" + run_id + "-" + std::to_string(i), body_bytes, etcd)));
    ReadResponse(fd, buf, nullptr);
    create.Add(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  reader.join();
  size_t n = stats.lat_ms.size();
  std::printf("watch watchers=%d events=%d delivered=%zu/%lld closed_early=%d create_p50=%.2fms "
              "send->event p50=%.2fms p99=%.2fms max=%.2fms\n",
              watchers, events, n, static_cast<long long>(watchers) * events, closed_streams,
              Pct(create.lat_ms, 0.5), Pct(stats.lat_ms, 0.5), Pct(stats.lat_ms, 0.99),
              Pct(stats.lat_ms, 1.0));
  for (int f : fds) close(f);
  close(fd);
}

void RunLatency(const Url& u, const std::string& accept, int count) {
  Stats stats;
  int fd = Connect(u);
  std::string buf, body;
  size_t bytes = 0;
  for (int i = 0; i < count; ++i) {
    auto t0 = Clock::now();
    WriteAll(fd, Request("GET", u, u.path, "", accept));
    int status = ReadResponse(fd, buf, &body);
    if (status != 200) {
      std::fprintf(stderr, "status %d\n", status);
      std::exit(1);
    }
    bytes = body.size();
    stats.Add(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  close(fd);
  std::printf("latency accept=%s bytes=%zu p50=%.1fms p99=%.1fms\n", accept.c_str(), bytes,
              Pct(stats.lat_ms, 0.5), Pct(stats.lat_ms, 0.99));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: loadgen create|get|fill|latency|watch --url URL [...]\n");
    return 2;
  }
  std::string mode = argv[1];
  Url u = ParseUrl(Flag(argc, argv, "url", "http://127.0.0.1:6443/"));
  int concurrency = std::atoi(Flag(argc, argv, "concurrency", "1").c_str());
  double seconds = std::atof(Flag(argc, argv, "seconds", "5").c_str());
  size_t body_bytes = std::strtoul(Flag(argc, argv, "body-bytes", "1024").c_str(), nullptr, 10);
  bool etcd = HasFlag(argc, argv, "etcd");
  std::string kind = Flag(argc, argv, "kind", "cm");
  if (mode == "create" || mode == "get") {
    RunLoad(mode, u, concurrency, seconds, 0, body_bytes, etcd, kind);
  } else if (mode == "fill") {
    RunLoad("create", u, concurrency, 1e9, std::atoll(Flag(argc, argv, "count", "1000").c_str()),
            body_bytes, etcd, kind);
  } else if (mode == "latency") {
    RunLatency(u, Flag(argc, argv, "accept", "application/json"),
               std::atoi(Flag(argc, argv, "count", "10").c_str()));
  } else if (mode == "watch") {
    RunWatch(u, std::atoi(Flag(argc, argv, "watchers", "100").c_str()),
             std::atoi(Flag(argc, argv, "events", "100").c_str()), body_bytes, etcd);
  } else {
    std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
    return 2;
  }
  return 0;
}
