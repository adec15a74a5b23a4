#include "proxy/dns/message.h"

#include <arpa/inet.h>

#include <cctype>
#include <map>

namespace kubepp::proxy::dns {
namespace {

constexpr size_t kHeaderSize = 12;

class Reader {
 public:
  explicit Reader(std::string_view wire) : w_(wire) {}
  size_t pos() const { return pos_; }
  void seek(size_t p) { pos_ = p; }
  bool U8(uint8_t* v) {
    if (pos_ + 1 > w_.size()) return false;
    *v = static_cast<uint8_t>(w_[pos_++]);
    return true;
  }
  bool U16(uint16_t* v) {
    if (pos_ + 2 > w_.size()) return false;
    *v = static_cast<uint16_t>((uint8_t(w_[pos_]) << 8) | uint8_t(w_[pos_ + 1]));
    pos_ += 2;
    return true;
  }
  bool U32(uint32_t* v) {
    uint16_t hi, lo;
    if (!U16(&hi) || !U16(&lo)) return false;
    *v = (uint32_t(hi) << 16) | lo;
    return true;
  }
  bool Bytes(size_t n, std::string* out) {
    if (pos_ + n > w_.size()) return false;
    out->assign(w_.substr(pos_, n));
    pos_ += n;
    return true;
  }
  // A possibly compressed name; pointers must go backwards (which also rules out loops).
  bool Name(std::string* out) {
    out->clear();
    size_t p = pos_;
    bool jumped = false;
    size_t total = 0;
    while (true) {
      if (p >= w_.size()) return false;
      uint8_t len = static_cast<uint8_t>(w_[p]);
      if ((len & 0xC0) == 0xC0) {
        if (p + 1 >= w_.size()) return false;
        size_t target = ((len & 0x3F) << 8) | uint8_t(w_[p + 1]);
        if (target >= p) return false;
        if (!jumped) pos_ = p + 2;
        jumped = true;
        p = target;
        continue;
      }
      if (len & 0xC0) return false;  // reserved label types
      if (len == 0) {
        if (!jumped) pos_ = p + 1;
        return true;
      }
      if (p + 1 + len > w_.size()) return false;
      total += len + 1;
      if (total > 255) return false;
      std::string_view label = w_.substr(p + 1, len);
      // Our dotted form cannot hold a '.' inside a label: "a.b" would be re-encoded as
      // two labels, "a." as an empty (terminating) one.
      if (label.find('.') != std::string_view::npos) return false;
      if (!out->empty()) *out += '.';
      for (char c : label) *out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      p += 1 + len;
    }
  }

 private:
  std::string_view w_;
  size_t pos_ = 0;
};

class Writer {
 public:
  std::string& out() { return out_; }
  void U8(uint8_t v) { out_ += static_cast<char>(v); }
  void U16(uint16_t v) {
    out_ += static_cast<char>(v >> 8);
    out_ += static_cast<char>(v & 0xFF);
  }
  void U32(uint32_t v) {
    U16(static_cast<uint16_t>(v >> 16));
    U16(static_cast<uint16_t>(v & 0xFFFF));
  }
  // Writes `name`, pointing at an earlier copy of any suffix.
  void Name(const std::string& name) {
    std::string_view rest = name;
    while (!rest.empty()) {
      auto it = offsets_.find(std::string(rest));
      if (it != offsets_.end()) {
        U16(static_cast<uint16_t>(0xC000 | it->second));
        return;
      }
      if (out_.size() < 0x4000) offsets_[std::string(rest)] = out_.size();
      size_t dot = rest.find('.');
      std::string_view label = rest.substr(0, dot);
      U8(static_cast<uint8_t>(label.size()));
      out_.append(label);
      rest = dot == std::string_view::npos ? std::string_view() : rest.substr(dot + 1);
    }
    U8(0);
  }

 private:
  std::string out_;
  std::map<std::string, size_t> offsets_;
};

void WriteRecord(Writer& w, const Record& r) {
  w.Name(r.name);
  w.U16(r.type);
  w.U16(r.klass);
  w.U32(r.ttl);
  size_t len_at = w.out().size();
  w.U16(0);
  size_t start = w.out().size();
  if (!r.rdata.empty() || (r.type != kCNAME && r.type != kSRV && r.type != kSOA)) {
    w.out() += r.rdata;
  } else if (r.type == kCNAME) {
    w.Name(r.target);
  } else if (r.type == kSRV) {
    w.U16(r.priority);
    w.U16(r.weight);
    w.U16(r.port);
    w.Name(r.target);
  } else {
    w.Name(r.target);
    w.Name(r.rname);
    for (uint32_t v : {r.serial, r.refresh, r.retry, r.expire, r.minimum}) w.U32(v);
  }
  size_t len = w.out().size() - start;
  w.out()[len_at] = static_cast<char>(len >> 8);
  w.out()[len_at + 1] = static_cast<char>(len & 0xFF);
}

std::string EncodeWith(const Message& m, bool records) {
  Writer w;
  w.U16(m.id);
  uint16_t flags = (m.response ? 0x8000 : 0) | ((m.opcode & 0xF) << 11) |
                   (m.authoritative ? 0x0400 : 0) | (m.truncated || !records ? 0x0200 : 0) |
                   (m.recursion_desired ? 0x0100 : 0) | (m.recursion_available ? 0x0080 : 0) |
                   (m.rcode & 0xF);
  w.U16(flags);
  w.U16(static_cast<uint16_t>(m.questions.size()));
  w.U16(records ? static_cast<uint16_t>(m.answers.size()) : 0);
  w.U16(records ? static_cast<uint16_t>(m.authority.size()) : 0);
  w.U16(records ? static_cast<uint16_t>(m.additional.size()) : 0);
  for (const auto& q : m.questions) {
    w.Name(q.name);
    w.U16(q.type);
    w.U16(q.klass);
  }
  if (records) {
    for (const auto* section : {&m.answers, &m.authority, &m.additional}) {
      for (const auto& r : *section) WriteRecord(w, r);
    }
  }
  return std::move(w.out());
}

Record Header(const std::string& name, uint16_t type, uint16_t klass, uint32_t ttl) {
  Record r;
  r.name = name;
  r.type = type;
  r.klass = klass;
  r.ttl = ttl;
  return r;
}

}  // namespace

Record ARecord(const std::string& name, uint32_t ttl, const std::string& ipv4) {
  Record r = Header(name, kA, kClassIN, ttl);
  in_addr a{};
  if (inet_pton(AF_INET, ipv4.c_str(), &a) == 1) r.rdata.assign(reinterpret_cast<char*>(&a), 4);
  return r;
}

Record CnameRecord(const std::string& name, uint32_t ttl, const std::string& target) {
  Record r = Header(name, kCNAME, kClassIN, ttl);
  r.target = target;
  return r;
}

Record SrvRecord(const std::string& name, uint32_t ttl, uint16_t priority, uint16_t weight,
                 uint16_t port, const std::string& target) {
  Record r = Header(name, kSRV, kClassIN, ttl);
  r.priority = priority;
  r.weight = weight;
  r.port = port;
  r.target = target;
  return r;
}

Record SoaRecord(const std::string& zone, uint32_t ttl) {
  // The values CoreDNS's kubernetes plugin uses.
  Record r = Header(zone, kSOA, kClassIN, ttl);
  r.target = "ns.dns." + zone;
  r.rname = "hostmaster." + zone;
  r.serial = 1;
  r.refresh = 7200;
  r.retry = 1800;
  r.expire = 86400;
  r.minimum = ttl;
  return r;
}

Record OptRecord(uint16_t udp_payload_size) {
  return Header("", kOPT, udp_payload_size, 0);
}

Result<Message> Parse(std::string_view wire) {
  if (wire.size() < kHeaderSize) return BadRequest("DNS message shorter than its header");
  Reader rd(wire);
  Message m;
  uint16_t flags, qd, an, ns, ar;
  (void)rd.U16(&m.id);
  (void)rd.U16(&flags);
  (void)rd.U16(&qd);
  (void)rd.U16(&an);
  (void)rd.U16(&ns);
  (void)rd.U16(&ar);
  m.response = flags & 0x8000;
  m.opcode = (flags >> 11) & 0xF;
  m.authoritative = flags & 0x0400;
  m.truncated = flags & 0x0200;
  m.recursion_desired = flags & 0x0100;
  m.recursion_available = flags & 0x0080;
  m.rcode = flags & 0xF;
  for (int i = 0; i < qd; ++i) {
    Question q;
    if (!rd.Name(&q.name) || !rd.U16(&q.type) || !rd.U16(&q.klass)) {
      return BadRequest("malformed DNS question");
    }
    m.questions.push_back(std::move(q));
  }
  for (auto [count, section] : {std::pair{an, &m.answers}, {ns, &m.authority}, {ar, &m.additional}}) {
    for (int i = 0; i < count; ++i) {
      Record r;
      uint16_t len;
      bool ok = rd.Name(&r.name) && rd.U16(&r.type) && rd.U16(&r.klass) && rd.U32(&r.ttl) &&
                rd.U16(&len);
      r.rdata_offset = rd.pos();
      if (!ok || !rd.Bytes(len, &r.rdata)) return BadRequest("malformed DNS resource record");
      section->push_back(std::move(r));
    }
  }
  return m;
}

std::string Encode(const Message& m, size_t max_size) {
  std::string out = EncodeWith(m, true);
  if (out.size() <= max_size) return out;
  return EncodeWith(m, false);
}

std::string Ipv4FromRdata(const std::string& rdata) {
  if (rdata.size() != 4) return "";
  char buf[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, rdata.data(), buf, sizeof buf);
  return buf;
}

Status DecodeRdata(std::string_view wire, Record* r) {
  size_t at = r->rdata_offset;
  if (at + r->rdata.size() > wire.size()) return BadRequest("rdata outside the message");
  Reader rd(wire);
  rd.seek(at);
  bool ok = true;
  if (r->type == kCNAME) {
    ok = rd.Name(&r->target);
  } else if (r->type == kSRV) {
    ok = rd.U16(&r->priority) && rd.U16(&r->weight) && rd.U16(&r->port) && rd.Name(&r->target);
  } else if (r->type == kSOA) {
    ok = rd.Name(&r->target) && rd.Name(&r->rname) && rd.U32(&r->serial) && rd.U32(&r->refresh) &&
         rd.U32(&r->retry) && rd.U32(&r->expire) && rd.U32(&r->minimum);
  }
  return ok ? Status::Ok() : BadRequest("malformed rdata");
}

}  // namespace kubepp::proxy::dns
