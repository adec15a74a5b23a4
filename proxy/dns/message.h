// DNS messages (RFC 1035) in wire format: parsing queries (and, for tests and relaying,
// answers) and encoding answers. Names are kept as lower-case dotted strings without the
// trailing dot ("web.default.svc.cluster.local"; "" is the root), so a label containing
// '.' (legal on the wire, never a cluster name) is rejected as malformed. Encoding writes
// names uncompressed except that a name already written is pointed to (RFC 1035 4.1.4),
// which keeps answers small enough for 512-byte UDP.
// Thread safety: values; functions are pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace kubepp::proxy::dns {

enum Type : uint16_t {
  kA = 1, kNS = 2, kCNAME = 5, kSOA = 6, kPTR = 12, kTXT = 16, kAAAA = 28, kSRV = 33,
  kOPT = 41, kANY = 255,
};
inline constexpr uint16_t kClassIN = 1;

enum Rcode : uint8_t { kNoError = 0, kFormErr = 1, kServFail = 2, kNXDomain = 3, kNotImp = 4,
                       kRefused = 5 };

struct Question {
  std::string name;
  uint16_t type = kA;
  uint16_t klass = kClassIN;
};

// rdata is kept raw for parsed records; records built for answers carry typed data that
// the encoder writes (so that names inside CNAME/SRV/SOA can be compressed).
struct Record {
  std::string name;
  uint16_t type = kA;
  uint16_t klass = kClassIN;  // for OPT: the requester's UDP payload size
  uint32_t ttl = 0;
  std::string rdata;  // A: 4 bytes; others as parsed
  size_t rdata_offset = 0;  // parsed records: where rdata starts in the message
  // Typed data for encoding (used when rdata is empty and type is CNAME/SRV/SOA):
  std::string target;                        // CNAME target, SRV target, SOA mname
  std::string rname;                         // SOA rname
  uint16_t priority = 0, weight = 0, port = 0;  // SRV
  uint32_t serial = 0, refresh = 0, retry = 0, expire = 0, minimum = 0;  // SOA
};

struct Message {
  uint16_t id = 0;
  bool response = false;
  uint8_t opcode = 0;
  bool authoritative = false;
  bool truncated = false;
  bool recursion_desired = false;
  bool recursion_available = false;
  uint8_t rcode = kNoError;
  std::vector<Question> questions;
  std::vector<Record> answers, authority, additional;
};

// Record builders.
Record ARecord(const std::string& name, uint32_t ttl, const std::string& ipv4);
Record CnameRecord(const std::string& name, uint32_t ttl, const std::string& target);
Record SrvRecord(const std::string& name, uint32_t ttl, uint16_t priority, uint16_t weight,
                 uint16_t port, const std::string& target);
Record SoaRecord(const std::string& zone, uint32_t ttl);
Record OptRecord(uint16_t udp_payload_size);

// FormErr-style BadRequest for anything malformed (bad label, pointer loop, truncated).
Result<Message> Parse(std::string_view wire);

// Encodes `m`. When the result would exceed `max_size`, sets TC and leaves out every
// record (the client retries over TCP), as RFC 2181 9 advises.
std::string Encode(const Message& m, size_t max_size = 65535);

// "10.96.0.1" from a 4-byte A rdata ("" if not 4 bytes).
std::string Ipv4FromRdata(const std::string& rdata);
// Decodes the typed fields of a parsed CNAME/SRV/SOA record (names may be compressed
// against `wire`, the whole message it was parsed from).
Status DecodeRdata(std::string_view wire, Record* r);

}  // namespace kubepp::proxy::dns
