#include "proxy/nftables/netlink.h"

#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <map>

#include "common/net/ipv4.h"

namespace kubepp::proxy::nft {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

// The fields of a concatenation as nft writes it: "a . b . c".
std::vector<std::string_view> SplitFields(std::string_view s) {
  std::vector<std::string_view> out;
  while (true) {
    size_t dot = s.find(" . ");
    out.push_back(Trim(s.substr(0, dot)));
    if (dot == std::string_view::npos) return out;
    s.remove_prefix(dot + 3);
  }
}

Result<Field> FieldOf(std::string_view expr) {
  if (expr == "ip saddr" || expr == "ip daddr") return Field::kIpv4;
  for (std::string_view proto : {"tcp ", "udp ", "sctp ", "th "}) {
    if (expr.substr(0, proto.size()) != proto) continue;
    std::string_view rest = expr.substr(proto.size());
    if (rest == "sport" || rest == "dport") return Field::kPort;
  }
  if (expr.substr(0, 7) == "numgen ") return Field::kHostU32;
  return Invalid("cannot encode elements of `" + std::string(expr) + "`");
}

Status ParseFields(std::string_view part, std::vector<Field>& out) {
  for (std::string_view f : SplitFields(part)) {
    ASSIGN_OR_RETURN(Field field, FieldOf(f));
    out.push_back(field);
  }
  return Status::Ok();
}

template <typename T>
bool ParseUint(std::string_view s, T max, T* out) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v > max) return false;
  *out = static_cast<T>(v);
  return true;
}

Result<uint8_t> FamilyOf(const std::string& family) {
  if (family == "ip") return uint8_t{NFPROTO_IPV4};
  if (family == "ip6") return uint8_t{NFPROTO_IPV6};
  if (family == "inet") return uint8_t{NFPROTO_INET};
  return Invalid("netlink: unsupported table family " + family);
}

// Netlink messages built into one buffer: nlmsghdr + nfgenmsg + attributes, each padded to
// 4 bytes; nested attributes get their length when they end.
class Messages {
 public:
  size_t Begin(uint16_t type, uint16_t flags, uint8_t family, uint16_t res_id) {
    size_t at = buf_.size();
    nlmsghdr h{};
    h.nlmsg_type = type;
    h.nlmsg_flags = flags;
    h.nlmsg_seq = ++seq_;
    Append(&h, sizeof h);
    nfgenmsg g{};
    g.nfgen_family = family;
    g.version = NFNETLINK_V0;
    g.res_id = res_id;
    Append(&g, sizeof g);
    return at;
  }
  void End(size_t at) { Patch32(at, static_cast<uint32_t>(buf_.size() - at)); }

  size_t Nest(uint16_t type) {
    size_t at = buf_.size();
    nlattr a{0, static_cast<uint16_t>(type | NLA_F_NESTED)};
    Append(&a, sizeof a);
    return at;
  }
  // False when the nest outgrew an attribute's 16-bit length.
  bool EndNest(size_t at) {
    size_t len = buf_.size() - at;
    if (len > 0xffff) return false;
    uint16_t l = static_cast<uint16_t>(len);
    std::memcpy(&buf_[at], &l, sizeof l);
    return true;
  }
  void Attr(uint16_t type, const void* data, size_t len) {
    nlattr a{static_cast<uint16_t>(NLA_HDRLEN + len), type};
    Append(&a, sizeof a);
    Append(data, len);
    buf_.append(NLA_ALIGN(len) - len, '\0');
  }
  void Str(uint16_t type, const std::string& s) { Attr(type, s.c_str(), s.size() + 1); }

  void Reserve(size_t n) { buf_.reserve(n); }
  void Clear() { buf_.clear(); }
  const std::string& buf() const { return buf_; }
  size_t size() const { return buf_.size(); }

 private:
  void Append(const void* p, size_t n) { buf_.append(static_cast<const char*>(p), n); }
  void Patch32(size_t at, uint32_t v) { std::memcpy(&buf_[at], &v, sizeof v); }
  std::string buf_;
  uint32_t seq_ = 0;
};

// A NETLINK_NETFILTER socket, opened by the first send.
class Socket {
 public:
  ~Socket() {
    if (fd_ >= 0) close(fd_);
  }

  // Sends `m` in one write and collects the kernel's answers to the messages that asked
  // for one (NLM_F_ACK): 0 or -errno, `expected` of them, or those that came up to a
  // failure (an aborted batch may answer fewer). The kernel handles the write (a whole
  // batch included) before it returns, so the answers are queued by then; the receive
  // timeout only guards against an answer that never comes.
  Result<std::vector<int>> Talk(const Messages& m, size_t expected) {
    RETURN_IF_ERROR(Send(m));
    std::vector<int> answers;
    bool failed = false;  // then the rest may not come: an aborted batch stops early
    std::vector<char> buf(1 << 16);
    while (answers.size() < expected) {
      ssize_t n = recv(fd_, buf.data(), buf.size(), failed ? MSG_DONTWAIT : 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (failed) break;
        return Internal("netlink: the kernel answered " + std::to_string(answers.size()) + " of " +
                        std::to_string(expected) + " messages");
      }
      if (n < 0) return Errno("recv");
      int len = static_cast<int>(n);
      for (auto* h = reinterpret_cast<nlmsghdr*>(buf.data()); NLMSG_OK(h, len);
           h = NLMSG_NEXT(h, len)) {
        if (h->nlmsg_type != NLMSG_ERROR) continue;  // a GET's reply: its ack follows
        int error = static_cast<const nlmsgerr*>(NLMSG_DATA(h))->error;
        failed = failed || error != 0;
        answers.push_back(error);
      }
    }
    return answers;
  }

  // Sends the dump request `m` and returns the attributes of each message of the answer.
  Result<std::vector<std::map<uint16_t, std::string>>> Dump(const Messages& m) {
    RETURN_IF_ERROR(Send(m));
    std::vector<std::map<uint16_t, std::string>> out;
    std::vector<char> buf(1 << 16);
    while (true) {
      ssize_t n = recv(fd_, buf.data(), buf.size(), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Errno("recv");
      int len = static_cast<int>(n);
      for (auto* h = reinterpret_cast<nlmsghdr*>(buf.data()); NLMSG_OK(h, len);
           h = NLMSG_NEXT(h, len)) {
        if (h->nlmsg_type == NLMSG_DONE) return out;
        if (h->nlmsg_type == NLMSG_ERROR) {
          int error = static_cast<const nlmsgerr*>(NLMSG_DATA(h))->error;
          if (error == 0) return out;
          return Internal(std::string("netlink: dump: ") + std::strerror(-error));
        }
        auto& attrs = out.emplace_back();
        const char* p = static_cast<const char*>(NLMSG_DATA(h)) + NLMSG_ALIGN(sizeof(nfgenmsg));
        const char* end = reinterpret_cast<const char*>(h) + h->nlmsg_len;
        while (p + NLA_HDRLEN <= end) {
          nlattr a;
          std::memcpy(&a, p, sizeof a);
          if (a.nla_len < NLA_HDRLEN || p + a.nla_len > end) break;
          attrs[a.nla_type & NLA_TYPE_MASK].assign(p + NLA_HDRLEN, a.nla_len - NLA_HDRLEN);
          p += NLA_ALIGN(a.nla_len);
        }
      }
    }
  }

 private:
  Status Send(const Messages& m) {
    if (fd_ < 0) {
      fd_ = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
      if (fd_ < 0) return Errno("socket");
      int one = 1;
      // Acknowledgements without a copy of the request: thousands of elements each.
      setsockopt(fd_, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
    }
    // One write carries the whole batch: the send buffer must hold it (root may exceed
    // the system's limit, as nft does).
    int sndbuf = static_cast<int>(std::min<size_t>(m.size() + (1 << 16), 1 << 30));
    if (setsockopt(fd_, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof sndbuf) != 0) {
      setsockopt(fd_, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    }
    int rcvbuf = 4 << 20;
    if (setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) != 0) {
      setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    }
    timeval tv{5, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    ssize_t sent = sendto(fd_, m.buf().data(), m.size(), 0,
                          reinterpret_cast<const sockaddr*>(&kernel), sizeof kernel);
    if (sent < 0) return Errno("send");
    if (static_cast<size_t>(sent) != m.size()) return Internal("netlink: short send");
    return Status::Ok();
  }

  static Status Errno(const char* what) {
    return Internal(std::string("netlink: ") + what + ": " + std::strerror(errno));
  }
  int fd_ = -1;
};

// A NUL-terminated string attribute's text.
std::string Text(const std::map<uint16_t, std::string>& attrs, uint16_t type) {
  auto it = attrs.find(type);
  if (it == attrs.end()) return "";
  return std::string(it->second.c_str());
}

}  // namespace

Result<Layout> LayoutOf(std::string_view decl) {
  decl = Trim(decl.substr(0, decl.find(';')));  // the type; flags, size etc. follow
  if (decl.substr(0, 7) != "typeof ") {
    return Invalid("cannot encode elements of a set declared `" + std::string(decl) + "`");
  }
  decl.remove_prefix(7);
  size_t colon = decl.find(" : ");
  Layout l;
  RETURN_IF_ERROR(ParseFields(decl.substr(0, colon), l.key));
  if (colon != std::string_view::npos) RETURN_IF_ERROR(ParseFields(decl.substr(colon + 3), l.data));
  return l;
}

Result<std::string> Encode(const std::vector<Field>& fields, std::string_view text) {
  std::vector<std::string_view> parts = SplitFields(text);
  auto bad = [&] { return Invalid("element `" + std::string(text) + "` does not fit its set"); };
  if (parts.size() != fields.size()) return bad();
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    switch (fields[i]) {
      case Field::kIpv4: {
        Result<uint32_t> ip = net::ParseIpv4(parts[i]);
        if (!ip.ok()) return bad();
        uint32_t be = htonl(*ip);
        out.append(reinterpret_cast<const char*>(&be), 4);
        break;
      }
      case Field::kPort: {
        uint16_t port = 0;
        if (!ParseUint<uint16_t>(parts[i], 0xffff, &port)) return bad();
        uint16_t be = htons(port);
        out.append(reinterpret_cast<const char*>(&be), 2);
        out.append(2, '\0');
        break;
      }
      case Field::kHostU32: {
        uint32_t v = 0;
        if (!ParseUint<uint32_t>(parts[i], 0xffffffffu, &v)) return bad();
        out.append(reinterpret_cast<const char*>(&v), 4);
        break;
      }
    }
  }
  return out;
}

Result<std::optional<TableObjects>> NetlinkElementLoader::Objects(const std::string& family,
                                                                   const std::string& table) {
  ASSIGN_OR_RETURN(uint8_t fam, FamilyOf(family));
  {
    Messages m;
    size_t msg = m.Begin((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETTABLE, NLM_F_REQUEST | NLM_F_ACK,
                         fam, 0);
    m.Str(NFTA_TABLE_NAME, table);
    m.End(msg);
    Socket s;
    ASSIGN_OR_RETURN(std::vector<int> answers, s.Talk(m, 1));
    if (answers[0] == -ENOENT) return std::optional<TableObjects>();
    if (answers[0] != 0) return Internal("netlink: table " + table + ": " + std::strerror(-answers[0]));
  }
  // Dumps of the family's chains and sets, filtered here by table.
  auto dump = [&](uint16_t type, uint16_t table_attr) {
    Messages m;
    size_t msg = m.Begin((NFNL_SUBSYS_NFTABLES << 8) | type, NLM_F_REQUEST | NLM_F_DUMP, fam, 0);
    m.Str(table_attr, table);
    m.End(msg);
    Socket s;
    return s.Dump(m);
  };
  TableObjects objects;
  ASSIGN_OR_RETURN(auto chains, dump(NFT_MSG_GETCHAIN, NFTA_CHAIN_TABLE));
  for (const auto& c : chains) {
    if (Text(c, NFTA_CHAIN_TABLE) == table) objects.chains.insert(Text(c, NFTA_CHAIN_NAME));
  }
  ASSIGN_OR_RETURN(auto sets, dump(NFT_MSG_GETSET, NFTA_SET_TABLE));
  for (const auto& s : sets) {
    if (Text(s, NFTA_SET_TABLE) != table) continue;
    uint32_t flags = 0;
    if (auto f = s.find(NFTA_SET_FLAGS); f != s.end() && f->second.size() == 4) {
      std::memcpy(&flags, f->second.data(), 4);
      flags = ntohl(flags);
    }
    if (flags & NFT_SET_ANONYMOUS) continue;  // a rule's own: goes with the rule
    objects.sets[Text(s, NFTA_SET_NAME)] = (flags & NFT_SET_MAP) != 0;
  }
  return std::optional<TableObjects>(std::move(objects));
}

Status NetlinkElementLoader::Add(const std::string& family, const std::string& table,
                                 const std::string& name, const Set& s) {
  ASSIGN_OR_RETURN(uint8_t fam, FamilyOf(family));
  ASSIGN_OR_RETURN(Layout layout, LayoutOf(s.decl));
  if (s.is_map() == layout.data.empty()) return Invalid("netlink: set " + name + ": declaration without data");
  // A nest's length is 16 bits: a message carries up to ~60 KB of elements (~1,300); a
  // batch up to ~1 MB (a buffer that size is all this takes).
  constexpr size_t kElementBytes = 60000, kBatchBytes = 1 << 20;
  Socket sock;
  Messages m;
  m.Reserve(kBatchBytes + (kElementBytes << 1));
  for (auto it = s.elements.begin(); it != s.elements.end();) {
    m.Clear();
    size_t begin = m.Begin(NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST, AF_UNSPEC, htons(NFNL_SUBSYS_NFTABLES));
    m.End(begin);
    size_t messages = 0;
    for (; it != s.elements.end() && m.size() < kBatchBytes; ++messages) {
      size_t msg = m.Begin((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWSETELEM,
                           NLM_F_REQUEST | NLM_F_CREATE | NLM_F_ACK, fam, 0);
      m.Str(NFTA_SET_ELEM_LIST_TABLE, table);
      m.Str(NFTA_SET_ELEM_LIST_SET, name);
      size_t list = m.Nest(NFTA_SET_ELEM_LIST_ELEMENTS);
      for (; it != s.elements.end() && m.size() - list < kElementBytes; ++it) {
        size_t elem = m.Nest(NFTA_LIST_ELEM);
        ASSIGN_OR_RETURN(std::string key, Encode(layout.key, it->first));
        size_t k = m.Nest(NFTA_SET_ELEM_KEY);
        m.Attr(NFTA_DATA_VALUE, key.data(), key.size());
        m.EndNest(k);
        if (s.is_map()) {
          ASSIGN_OR_RETURN(std::string data, Encode(layout.data, it->second));
          size_t d = m.Nest(NFTA_SET_ELEM_DATA);
          m.Attr(NFTA_DATA_VALUE, data.data(), data.size());
          m.EndNest(d);
        }
        m.EndNest(elem);
      }
      if (!m.EndNest(list)) return Internal("netlink: element list too long");
      m.End(msg);
    }
    size_t end = m.Begin(NFNL_MSG_BATCH_END, NLM_F_REQUEST, AF_UNSPEC, htons(NFNL_SUBSYS_NFTABLES));
    m.End(end);
    ASSIGN_OR_RETURN(std::vector<int> answers, sock.Talk(m, messages));
    for (int e : answers) {
      if (e != 0) {
        return Internal("netlink: adding " + std::to_string(s.elements.size()) + " elements to " +
                        family + " " + table + " " + name + ": " + std::strerror(-e));
      }
    }
  }
  return Status::Ok();
}

}  // namespace kubepp::proxy::nft
