// The DNS message parser of the proxy's cluster DNS (proxy/dns/message.h). Invariants: no
// crash (names, compression pointers, counts and lengths come from the wire); typed rdata
// decoding of every parsed record; re-encoding a parsed message gives a message that
// parses again with the same questions.
#include <string>

#include "fuzz/fuzz_util.h"
#include "proxy/dns/message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kubepp::proxy::dns;
  std::string_view wire = kubepp::fuzz::AsText(data, size);
  auto msg = Parse(wire);
  if (!msg.ok()) return 0;
  for (auto* section : {&msg->answers, &msg->authority, &msg->additional}) {
    for (Record& r : *section) {
      (void)Ipv4FromRdata(r.rdata);
      (void)DecodeRdata(wire, &r);
    }
  }
  std::string encoded = Encode(*msg);
  auto again = Parse(encoded);
  FUZZ_CHECK(again.ok(), again.status().message());
  FUZZ_CHECK(again->questions.size() == msg->questions.size(), "question count");
  for (size_t i = 0; i < msg->questions.size(); ++i) {
    FUZZ_CHECK(again->questions[i].name == msg->questions[i].name, msg->questions[i].name);
  }
  return 0;
}
