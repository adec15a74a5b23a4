// A shared informer: lists and watches one resource into a cache of immutable objects
// and tells event handlers about every change, as client-go's SharedInformer.
//
//   Informer pods(&client, client::kPods);
//   pods.AddEventHandler({.on_add = [&](const ObjectPtr& p) { queue.Add(KeyOf(*p)); }});
//   pods.Start();
//   if (!pods.WaitForSync(30s)) ...
//   ObjectPtr pod = pods.Get("default/web-0");
//
// Behaviour: a full (paginated) list fills the cache, then a watch continues from the
// list's resourceVersion and from the last event's after a dropped or ended stream. A
// 410 Gone (ERROR event or status) relists at once; other errors back off with jitter
// (200 ms doubling to 30 s by default) and re-watch (transient errors) or relist. A
// relist diffs against the cache: handlers see adds, updates (resourceVersion changed)
// and deletes for objects that vanished meanwhile.
//
// Cached objects lack metadata.managedFields (no component reads them; server-side
// apply makes them large); with InformerOptions::keys_only, only keys and
// resourceVersions are cached.
//
// Thread safety: Get/List/HasSynced/WaitForSync are safe from any thread. Handlers run
// one at a time on the informer's thread, after the cache already reflects the event;
// they must be quick (enqueue a key) and must not call AddEventHandler.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "common/api/json.h"
#include "common/client/rest_client.h"

namespace kubepp::informer {

using ObjectPtr = std::shared_ptr<const api::Document>;

// The cache key of an object: "namespace/name", or "name" when it has no namespace.
std::string KeyOf(const api::Value& object);
// The inverse of KeyOf: {namespace or "", name}.
std::pair<std::string, std::string> SplitKey(std::string_view key);

struct EventHandler {
  std::function<void(const ObjectPtr& object)> on_add;
  std::function<void(const ObjectPtr& old_object, const ObjectPtr& new_object)> on_update;
  // The object's last known state.
  std::function<void(const ObjectPtr& object)> on_delete;
};

struct InformerOptions {
  std::string ns;  // "" watches every namespace
  std::string label_selector;
  std::string field_selector;
  int64_t page_size = 500;
  std::chrono::milliseconds initial_backoff{200};
  std::chrono::milliseconds max_backoff{30000};
  // Each watch asks the server to end it after a random time in [min, 2*min) seconds,
  // as client-go, so that connections are rebalanced and stuck streams replaced.
  int min_watch_timeout_seconds = 300;
  // For a component that holds its own copy of what it reads: the cache keeps only each
  // object's key and resourceVersion. Handlers get whole objects as they arrive (on_add,
  // on_update's new object, a watch's DELETED event); on_update's old object and a
  // relist's on_delete get a stand-in with only metadata.name, .namespace and
  // .resourceVersion. Get returns nullptr, List nothing; a late handler is told of nothing.
  bool keys_only = false;
};

class Informer {
 public:
  // `client` must outlive the informer.
  Informer(client::RestClient* client, client::ResourceRef ref, InformerOptions options = {});
  ~Informer();  // Stop()
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  // A handler added after objects are cached first gets on_add for each of them.
  void AddEventHandler(EventHandler handler);

  // Lists and watches until *stop becomes true (checked within ~200 ms). Blocking.
  void Run(const std::atomic<bool>* stop);
  // Run() on the informer's own thread; Stop() ends and joins it. Start once.
  void Start();
  void Stop();

  // Whether the first full list has been loaded into the cache.
  bool HasSynced() const;
  bool WaitForSync(std::chrono::milliseconds timeout) const;

  // nullptr when absent.
  ObjectPtr Get(const std::string& key) const;
  std::vector<ObjectPtr> List() const;
  // The resourceVersion the next watch starts from.
  std::string LastResourceVersion() const;

 private:
  // How a watch ended: cleanly, with 410 Gone, a transient error, or another error.
  enum class WatchEnd { kEnded, kGone, kTransient, kError };
  Status ListAll(const std::atomic<bool>* stop);
  WatchEnd WatchOnce(const std::atomic<bool>* stop, bool* made_progress);
  // Updates the cache and notifies handlers for one object change.
  void Apply(std::string_view type, ObjectPtr object);
  struct Cached {
    ObjectPtr object;  // null with keys_only
    std::string resource_version;
  };
  Cached Entry(const ObjectPtr& object) const;
  // The object a handler is given as the last known state of `key`.
  static ObjectPtr LastKnown(const std::string& key, const Cached& cached);
  void Dispatch(const std::function<void(const EventHandler&)>& call);

  client::RestClient* client_;
  client::ResourceRef ref_;
  InformerOptions options_;

  mutable std::mutex mu_;  // guards the fields below
  mutable std::condition_variable synced_cv_;
  std::map<std::string, Cached> cache_;
  bool synced_ = false;
  std::string resource_version_;

  std::mutex handlers_mu_;  // held while handlers run
  std::vector<EventHandler> handlers_;

  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace kubepp::informer
