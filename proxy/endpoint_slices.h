// The proxy's EndpointSlices, held once, typed and compact (object_store.h), for every
// part of the proxy that reads them (the Service proxy, DNS, the Ingress controller): an
// endpoint takes 16 bytes here where the cached document took ~110.
//
// What is kept of a slice: its Service (label kubernetes.io/service-name), address type,
// ports, and of each endpoint its first address (upstream uses no other), node name,
// hostname and the ready/serving/terminating conditions, each absent condition as the
// API defines it (ready: true, serving: as ready, terminating: false). Endpoints whose
// first address is not IPv4 are dropped (the proxy serves IPv4 only), as are all those
// of slices of another address type.
//
// Thread safety: as ObjectStore's.
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/api/json.h"
#include "common/client/rest_client.h"
#include "proxy/object_store.h"

namespace kubepp::proxy {

// The one copy of `name` the process keeps (node names are few; none is ever dropped).
const std::string* InternNodeName(std::string_view name);

struct SliceEndpoint {
  uint32_t address = 0;  // IPv4, host byte order
  bool ready = true, serving = true, terminating = false;
  const std::string* node = nullptr;  // interned (InternNodeName), "" when not given

  std::string ip() const;  // dotted quad
  const std::string& node_name() const { return *node; }
};

struct SlicePort {
  std::string name;      // "" for an unnamed port
  std::string protocol;  // lower case: "tcp" (the default), "udp" or "sctp"
  int port = 0;          // 0 when not given, -1 when out of range (NonNegativeInt)
};

struct EndpointSlice {
  std::string ns, name;
  std::string service;  // the Service's name, "" when the slice is not labelled with one
  bool ipv4 = true;     // addressType IPv4 (the default)
  std::vector<SlicePort> ports;
  std::vector<SliceEndpoint> endpoints;
  std::vector<std::string> hostnames;  // empty, or each endpoint's ("" for none)

  std::string Key() const { return ns + "/" + name; }
  // "ns/service", or "" when not labelled.
  std::string ServiceKey() const { return service.empty() ? "" : ns + "/" + service; }
  const std::string& Hostname(size_t i) const;
};

using SlicePtr = std::shared_ptr<const EndpointSlice>;

// An EndpointSlice object in that form.
SlicePtr SliceOf(const api::Value& slice);

// The EndpointSlices store (object_store.h), indexed by Service.
class EndpointSlices : public ObjectStore<EndpointSlice> {
 public:
  // Watches every namespace's EndpointSlices through `client`, which must outlive it.
  explicit EndpointSlices(client::RestClient* client);
  // The slices labelled with Service `service_key` ("ns/name"), by slice key.
  std::vector<SlicePtr> OfService(const std::string& service_key) const { return Indexed(service_key); }
};

}  // namespace kubepp::proxy
