// The Kubernetes protobuf body decoder (apiserver/protobuf.h). Invariants: no crash; an
// accepted body is a JSON object with apiVersion and kind that serializes and parses back
// equal; UnknownFields on it works.
#include <string>

#include "apiserver/protobuf.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kubepp;
  auto obj = apiserver::DecodeProtobufObject(fuzz::AsText(data, size));
  if (!obj.ok()) return 0;
  FUZZ_CHECK(obj->IsObject(), api::ToJson(*obj));
  fuzz::CheckJsonRoundTrip(*obj);
  (void)apiserver::UnknownFields(api::GetString(*obj, "apiVersion"),
                                 api::GetString(*obj, "kind"), *obj);
  return 0;
}
