// The proxy's EndpointSlices, held once, typed and compact, for every part of the proxy
// that reads them (the Service proxy, DNS, the Ingress controller): an endpoint takes 16
// bytes here where the cached document took ~110. The store watches through an informer
// that caches only each slice's name and resourceVersion (InformerOptions::keep).
//
// What is kept of a slice: its Service (label kubernetes.io/service-name), address type,
// ports, and of each endpoint its first address (upstream uses no other), node name,
// hostname and the ready/serving/terminating conditions, each absent condition as the
// API defines it (ready: true, serving: as ready, terminating: false). Endpoints whose
// first address is not IPv4 are dropped (the proxy serves IPv4 only), as are all those
// of slices of another address type.
//
// Thread safety: all methods may be called from any thread. Handlers run one at a time,
// on the informer's thread, after the store reflects the change; they must be quick.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/api/json.h"
#include "common/client/rest_client.h"
#include "common/informer/informer.h"

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
  int port = 0;          // 0 when not given
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

// What the store's informer caches of a slice: metadata.name, .namespace and
// .resourceVersion.
void KeepSliceKey(api::Value& slice);

class EndpointSlices {
 public:
  // A slice added (`before` null), changed, or deleted (`after` null).
  using Handler = std::function<void(const SlicePtr& before, const SlicePtr& after)>;

  // Watches every namespace's EndpointSlices through `client`, which must outlive it.
  explicit EndpointSlices(client::RestClient* client);
  ~EndpointSlices();  // Stop()

  // A handler added after slices are known is first called with each of them as added.
  void AddHandler(Handler handler);

  void Start();
  void Stop();
  // Whether the first full list is in.
  bool HasSynced() const;
  bool WaitForSync(std::chrono::milliseconds timeout) const;

  SlicePtr Get(const std::string& key) const;  // "ns/name"; nullptr when absent
  std::vector<SlicePtr> List() const;
  // The slices labelled with Service `service_key` ("ns/name"), by slice key.
  std::vector<SlicePtr> OfService(const std::string& service_key) const;

 private:
  void Set(const std::string& key, SlicePtr after);  // after null: deleted

  informer::Informer informer_;
  mutable std::mutex mu_;
  std::map<std::string, SlicePtr> slices_;                     // by "ns/name"
  std::map<std::string, std::set<std::string>> by_service_;    // service key -> slice keys
  std::mutex handlers_mu_;  // held while handlers run
  std::vector<Handler> handlers_;
};

}  // namespace kubepp::proxy
