#include "common/informer/informer.h"

#include <algorithm>

#include "common/log.h"
#include "common/util/random.h"

namespace kubepp::informer {
namespace {

// What the cache keeps of an object: all of it but metadata.managedFields, which no
// component reads and which server-side apply makes large (client-go's users strip them
// the same way, kube-proxy among them).
ObjectPtr Cacheable(const api::Value& object) {
  if (!api::Has(object, "metadata.managedFields")) return api::Freeze(object);
  api::Document copy;
  copy.CopyFrom(object, copy.GetAllocator());
  api::Remove(copy, "metadata.managedFields");
  return api::Freeze(copy);
}

using Clock = std::chrono::steady_clock;

// Sleeps up to `d`, returning early (false) once *stop is set.
bool SleepFor(std::chrono::milliseconds d, const std::atomic<bool>* stop) {
  auto until = Clock::now() + d;
  while (!stop->load()) {
    auto left = until - Clock::now();
    if (left <= Clock::duration::zero()) return true;
    std::this_thread::sleep_for(std::min<Clock::duration>(left, std::chrono::milliseconds(50)));
  }
  return false;
}

// Doubling backoff with up to +50% jitter, so that many clients of a restarted
// apiserver do not come back in lockstep.
class Backoff {
 public:
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max)
      : initial_(initial), max_(max), next_(initial) {}
  std::chrono::milliseconds Next() {
    auto d = next_;
    next_ = std::min(next_ * 2, max_);
    return d + std::chrono::milliseconds(util::RandomBelow(d.count() / 2 + 1));
  }
  void Reset() { next_ = initial_; }

 private:
  std::chrono::milliseconds initial_, max_, next_;
};

bool IsTransient(Code code) {
  return code == Code::kUnavailable || code == Code::kTimeout || code == Code::kTooManyRequests;
}

}  // namespace

std::string KeyOf(const api::Value& object) {
  std::string ns = api::GetString(object, "metadata.namespace");
  std::string name = api::GetString(object, "metadata.name");
  return ns.empty() ? name : ns + "/" + name;
}

std::pair<std::string, std::string> SplitKey(std::string_view key) {
  size_t slash = key.find('/');
  if (slash == std::string_view::npos) return {"", std::string(key)};
  return {std::string(key.substr(0, slash)), std::string(key.substr(slash + 1))};
}

Informer::Informer(client::RestClient* client, client::ResourceRef ref, InformerOptions options)
    : client_(client), ref_(std::move(ref)), options_(std::move(options)) {}

Informer::~Informer() { Stop(); }

void Informer::AddEventHandler(EventHandler handler) {
  std::lock_guard handlers_lock(handlers_mu_);
  if (handler.on_add) {
    for (const auto& obj : List()) handler.on_add(obj);
  }
  handlers_.push_back(std::move(handler));
}

void Informer::Dispatch(const std::function<void(const EventHandler&)>& call) {
  std::lock_guard lock(handlers_mu_);
  for (const auto& h : handlers_) call(h);
}

void Informer::Start() { thread_ = std::thread([this] { Run(&stop_); }); }

void Informer::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

bool Informer::HasSynced() const {
  std::lock_guard lock(mu_);
  return synced_;
}

bool Informer::WaitForSync(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return synced_cv_.wait_for(lock, timeout, [this] { return synced_; });
}

ObjectPtr Informer::Get(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = cache_.find(key);
  return it == cache_.end() ? nullptr : it->second.object;
}

std::vector<ObjectPtr> Informer::List() const {
  std::lock_guard lock(mu_);
  std::vector<ObjectPtr> out;
  out.reserve(cache_.size());
  for (const auto& [key, cached] : cache_) {
    if (cached.object) out.push_back(cached.object);
  }
  return out;
}

std::string Informer::LastResourceVersion() const {
  std::lock_guard lock(mu_);
  return resource_version_;
}

Informer::Cached Informer::Entry(const ObjectPtr& object) const {
  return {options_.keys_only ? nullptr : object,
          api::GetString(*object, "metadata.resourceVersion")};
}

ObjectPtr Informer::LastKnown(const std::string& key, const Cached& cached) {
  if (cached.object) return cached.object;
  auto doc = std::make_shared<api::Document>(rapidjson::kObjectType);
  auto& a = doc->GetAllocator();
  auto [ns, name] = SplitKey(key);
  api::SetValue(*doc, "metadata.name", api::Str(name, a), a);
  if (!ns.empty()) api::SetValue(*doc, "metadata.namespace", api::Str(ns, a), a);
  api::SetValue(*doc, "metadata.resourceVersion", api::Str(cached.resource_version, a), a);
  return doc;
}

void Informer::Apply(std::string_view type, ObjectPtr object) {
  std::string key = KeyOf(*object);
  ObjectPtr old;
  {
    std::lock_guard lock(mu_);
    resource_version_ = api::GetString(*object, "metadata.resourceVersion");
    auto it = cache_.find(key);
    if (type == "DELETED") {
      if (it == cache_.end()) return;  // never seen: nothing to tell
      cache_.erase(it);
    } else {
      if (it != cache_.end()) old = LastKnown(key, it->second);
      cache_[key] = Entry(object);
    }
  }
  if (type == "DELETED") {
    Dispatch([&](const EventHandler& h) {
      if (h.on_delete) h.on_delete(object);
    });
  } else if (old) {
    Dispatch([&](const EventHandler& h) {
      if (h.on_update) h.on_update(old, object);
    });
  } else {
    Dispatch([&](const EventHandler& h) {
      if (h.on_add) h.on_add(object);
    });
  }
}

Status Informer::ListAll(const std::atomic<bool>* stop) {
  std::map<std::string, ObjectPtr> fresh;
  std::string list_rv;
  client::ListOptions lo;
  lo.label_selector = options_.label_selector;
  lo.field_selector = options_.field_selector;
  lo.limit = options_.page_size;
  do {
    if (stop->load()) return Status(Code::kUnavailable, "stopped");
    ASSIGN_OR_RETURN(api::Document page, client_->List(ref_, options_.ns, lo));
    if (const api::Value* items = api::FindMember(page, "items"); items && items->IsArray()) {
      for (const auto& item : items->GetArray()) {
        ObjectPtr obj = Cacheable(item);
        fresh[KeyOf(*obj)] = std::move(obj);
      }
    }
    list_rv = api::GetString(page, "metadata.resourceVersion");
    lo.continue_token = api::GetString(page, "metadata.continue");
  } while (!lo.continue_token.empty());

  // Diff against the cache, then tell handlers in the order client-go would.
  std::vector<ObjectPtr> added, deleted;
  std::vector<std::pair<ObjectPtr, ObjectPtr>> updated;
  std::map<std::string, Cached> cache;
  for (const auto& [key, obj] : fresh) cache.emplace_hint(cache.end(), key, Entry(obj));
  {
    std::lock_guard lock(mu_);
    for (const auto& [key, cached] : cache_) {
      if (!fresh.count(key)) deleted.push_back(LastKnown(key, cached));
    }
    for (const auto& [key, obj] : fresh) {
      auto it = cache_.find(key);
      if (it == cache_.end()) {
        added.push_back(obj);
      } else if (it->second.resource_version != api::GetString(*obj, "metadata.resourceVersion")) {
        updated.emplace_back(LastKnown(key, it->second), obj);
      }
    }
    cache_ = std::move(cache);
    resource_version_ = list_rv;
  }
  for (const auto& obj : deleted) {
    Dispatch([&](const EventHandler& h) {
      if (h.on_delete) h.on_delete(obj);
    });
  }
  for (const auto& obj : added) {
    Dispatch([&](const EventHandler& h) {
      if (h.on_add) h.on_add(obj);
    });
  }
  for (const auto& [old_obj, new_obj] : updated) {
    Dispatch([&](const EventHandler& h) {
      if (h.on_update) h.on_update(old_obj, new_obj);
    });
  }
  {
    std::lock_guard lock(mu_);
    synced_ = true;
  }
  synced_cv_.notify_all();
  return Status::Ok();
}

Informer::WatchEnd Informer::WatchOnce(const std::atomic<bool>* stop, bool* made_progress) {
  client::WatchOptions wo;
  wo.resource_version = LastResourceVersion();
  wo.allow_bookmarks = true;
  wo.label_selector = options_.label_selector;
  wo.field_selector = options_.field_selector;
  int min_timeout = options_.min_watch_timeout_seconds;
  wo.timeout_seconds = min_timeout + static_cast<int>(util::RandomBelow(min_timeout));

  Status event_error;
  Status st = client_->Watch(
      ref_, options_.ns, wo,
      [&](std::string_view type, const api::Value& object) {
        if (type == "ERROR") {
          int code = static_cast<int>(api::GetInt(object, "code"));
          event_error = Status(CodeFromHttp(code, api::GetString(object, "reason")),
                               api::GetString(object, "message"));
          if (event_error.ok()) event_error = Internal("watch ERROR event without a code");
          return false;
        }
        *made_progress = true;
        if (type == "BOOKMARK") {
          std::lock_guard lock(mu_);
          resource_version_ = api::GetString(object, "metadata.resourceVersion");
          return true;
        }
        if (type != "ADDED" && type != "MODIFIED" && type != "DELETED") return true;
        Apply(type, Cacheable(object));
        return true;
      },
      stop);
  if (!event_error.ok()) st = event_error;
  if (st.ok() || stop->load()) return WatchEnd::kEnded;
  if (st.code() == Code::kGone) {
    VLOG(1) << "watch " << ref_.plural << ": " << st.message() << "; relisting";
    return WatchEnd::kGone;
  }
  LOG(WARNING) << "watch " << ref_.plural << " failed: " << st.ToString();
  return IsTransient(st.code()) ? WatchEnd::kTransient : WatchEnd::kError;
}

void Informer::Run(const std::atomic<bool>* stop) {
  Backoff backoff(options_.initial_backoff, options_.max_backoff);
  bool need_list = true;
  while (!stop->load()) {
    bool just_listed = need_list;
    if (need_list) {
      Status st = ListAll(stop);
      if (stop->load()) break;
      if (!st.ok()) {
        LOG(WARNING) << "list " << ref_.plural << " failed: " << st.ToString();
        SleepFor(backoff.Next(), stop);
        continue;
      }
      need_list = false;
    }
    auto started = Clock::now();
    bool made_progress = false;
    WatchEnd end = WatchOnce(stop, &made_progress);
    if (stop->load()) break;
    // A watch that ends at once without events (a failing or refusing server) must not
    // spin; neither must a server answering 410 even to a fresh list's resourceVersion.
    bool ended_fast = !made_progress && Clock::now() - started < std::chrono::seconds(1);
    bool sleep = false;
    switch (end) {
      case WatchEnd::kEnded: sleep = ended_fast; break;
      case WatchEnd::kGone: need_list = true; sleep = just_listed; break;
      case WatchEnd::kTransient: sleep = true; break;
      case WatchEnd::kError: need_list = true; sleep = true; break;
    }
    if (sleep) {
      SleepFor(backoff.Next(), stop);
    } else if (made_progress) {
      backoff.Reset();
    }
  }
}

}  // namespace kubepp::informer
