// One kind of API object, held once, typed and compact, for every part of the proxy that
// reads it: the store watches through an informer that caches only each object's key and
// resourceVersion (InformerOptions::keys_only), and keeps what `of` makes of each object
// (a few hundred bytes where the cached document took a few KB). Optionally indexed by
// one key computed from the typed object (`index`).
//
// Thread safety: all methods may be called from any thread. Handlers run one at a time,
// on the informer's thread, after the store reflects the change; they must be quick.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/api/json.h"
#include "common/client/rest_client.h"
#include "common/informer/informer.h"

namespace kubepp::proxy {

// For the `of` functions: an integer field that is never negative (a port, a timeout) as an
// int; -1 when it is negative or past int's range, so that no huge value wraps into a
// valid-looking one (4294967376 is not port 80).
inline int NonNegativeInt(const api::Value& v, std::string_view path, int64_t fallback = 0) {
  int64_t n = api::GetInt(v, path, fallback);
  return n < 0 || n > std::numeric_limits<int>::max() ? -1 : static_cast<int>(n);
}

template <typename T>
class ObjectStore {
 public:
  using Ptr = std::shared_ptr<const T>;
  // An object added (`before` null), changed, or deleted (`after` null).
  using Handler = std::function<void(const Ptr& before, const Ptr& after)>;
  // The typed form of an object (never null).
  using Of = std::function<Ptr(const api::Value&)>;
  // The index key of an object; "" for none.
  using IndexKey = std::function<std::string(const T&)>;

  // Watches every namespace's objects of `ref` through `client`, which must outlive it.
  ObjectStore(client::RestClient* client, client::ResourceRef ref, Of of, IndexKey index = nullptr)
      : informer_(client, ref, KeepingKeys()), of_(std::move(of)), index_key_(std::move(index)) {
    informer_.AddEventHandler({
        .on_add = [this](const informer::ObjectPtr& o) { Set(informer::KeyOf(*o), of_(*o)); },
        .on_update = [this](const informer::ObjectPtr&,
                            const informer::ObjectPtr& o) { Set(informer::KeyOf(*o), of_(*o)); },
        .on_delete = [this](const informer::ObjectPtr& o) { Set(informer::KeyOf(*o), nullptr); },
    });
  }
  ~ObjectStore() { Stop(); }
  ObjectStore(const ObjectStore&) = delete;
  ObjectStore& operator=(const ObjectStore&) = delete;

  // A handler added after objects are known is first called with each of them as added.
  void AddHandler(Handler handler) {
    std::lock_guard handlers_lock(handlers_mu_);
    for (const auto& o : List()) handler(nullptr, o);
    handlers_.push_back(std::move(handler));
  }

  void Start() { informer_.Start(); }
  void Stop() { informer_.Stop(); }
  // Whether the first full list is in.
  bool HasSynced() const { return informer_.HasSynced(); }
  bool WaitForSync(std::chrono::milliseconds timeout) const { return informer_.WaitForSync(timeout); }

  Ptr Get(const std::string& key) const {  // "ns/name"; nullptr when absent
    std::lock_guard lock(mu_);
    auto it = objects_.find(key);
    return it == objects_.end() ? nullptr : it->second;
  }
  std::vector<Ptr> List() const {  // by key
    std::lock_guard lock(mu_);
    std::vector<Ptr> out;
    out.reserve(objects_.size());
    for (const auto& [key, o] : objects_) out.push_back(o);
    return out;
  }
  // The objects whose index key is `index_key`, by key.
  std::vector<Ptr> Indexed(const std::string& index_key) const {
    std::lock_guard lock(mu_);
    std::vector<Ptr> out;
    if (auto it = index_.find(index_key); it != index_.end()) {
      for (const auto& key : it->second) out.push_back(objects_.at(key));
    }
    return out;
  }

 private:
  static informer::InformerOptions KeepingKeys() {
    informer::InformerOptions o;
    o.keys_only = true;
    return o;
  }

  void Set(const std::string& key, Ptr after) {  // after null: deleted
    std::lock_guard handlers_lock(handlers_mu_);  // first: AddHandler sees no change half made
    Ptr before;
    {
      std::lock_guard lock(mu_);
      auto it = objects_.find(key);
      if (it != objects_.end()) {
        before = it->second;
        Unindex(key, *before);
      }
      if (after) {
        objects_[key] = after;
        if (index_key_) {
          if (std::string k = index_key_(*after); !k.empty()) index_[k].insert(key);
        }
      } else if (it != objects_.end()) {
        objects_.erase(it);
      }
    }
    if (!before && !after) return;
    for (const auto& h : handlers_) h(before, after);
  }
  void Unindex(const std::string& key, const T& o) {  // mu_ held
    if (!index_key_) return;
    std::string k = index_key_(o);
    if (k.empty()) return;
    auto& keys = index_[k];
    keys.erase(key);
    if (keys.empty()) index_.erase(k);
  }

  informer::Informer informer_;
  const Of of_;
  const IndexKey index_key_;
  mutable std::mutex mu_;
  std::map<std::string, Ptr> objects_;                    // by "ns/name"
  std::map<std::string, std::set<std::string>> index_;    // index key -> object keys
  std::mutex handlers_mu_;  // held while handlers run
  std::vector<Handler> handlers_;
};

}  // namespace kubepp::proxy
