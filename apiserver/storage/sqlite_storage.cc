// SQLite storage: WAL mode, synchronous=FULL, one writer thread that group-commits.
//
// Schema (native, not an etcd emulation):
//   objects(resource, namespace, name, rv, value, expires)  -- current state; expires:
//     Unix ms, set for resources with a TTL (SqliteOptions::ttl), else NULL
//   log(rv PRIMARY KEY, resource, namespace, name, type, value)  -- recent changes
//   meta(key PRIMARY KEY, value)  -- "compacted": highest revision dropped from the log
// The in-memory cache mirrors `objects` and the tail of `log`; the writer updates both
// after each commit, so readers never touch SQLite. `value` columns hold what
// Encryption::Encode() makes of the object JSON (encrypted at rest when configured); the
// cache holds plain JSON. Objects with an expiry are also indexed by it in memory (loaded
// with the rest at open), so finding expired ones never scans.
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <shared_mutex>
#include <set>
#include <thread>
#include <tuple>
#include <unordered_map>

#include "apiserver/storage/dispatcher.h"
#include "apiserver/storage/encryption.h"
#include "apiserver/storage/storage.h"
#include "common/log.h"

namespace kubepp::apiserver {

std::string StoredObject::Field(std::string_view field) const {
  if (field == "metadata.name") return name;
  if (field == "metadata.namespace") return ns;
  for (const auto& [k, v] : fields) {
    if (k == field) return v;
  }
  return "";
}

bool IsExpired(const StoredObject& o, int64_t now_ms) {
  return o.expires_ms != 0 && o.expires_ms <= now_ms;
}

std::string_view EventTypeName(EventType t) {
  switch (t) {
    case EventType::kAdded: return "ADDED";
    case EventType::kModified: return "MODIFIED";
    case EventType::kDeleted: return "DELETED";
  }
  return "";
}

std::shared_ptr<const std::string> EncodeWatchLine(EventType type, const std::string& json) {
  std::string line;
  line.reserve(json.size() + 40);
  line += R"({"type":")";
  line += EventTypeName(type);
  line += R"(","object":)";
  line += json;
  line += "}\n";
  return std::make_shared<const std::string>(std::move(line));
}

Result<ObjectPtr> Storage::SubmitAndWait(Write write) {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<Result<ObjectPtr>> out;
  Submit(std::move(write), [&](Result<ObjectPtr> r) {
    std::lock_guard<std::mutex> l(mu);
    out.emplace(std::move(r));
    cv.notify_one();
  });
  std::unique_lock<std::mutex> l(mu);
  cv.wait(l, [&] { return out.has_value(); });
  return std::move(*out);
}

namespace {

using Key = std::pair<std::string, std::string>;  // (namespace, name)

class Db {
 public:
  ~Db() {
    for (auto* s : stmts_) sqlite3_finalize(s);
    if (db_) sqlite3_close(db_);
  }
  Status Open(const std::string& path, int flags) {
    if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
      return Internal("cannot open database " + path + ": " + Error());
    }
    sqlite3_busy_timeout(db_, 5000);
    return Status::Ok();
  }
  Status Exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string m = err ? err : "unknown error";
      sqlite3_free(err);
      return Internal("sqlite: " + m + " in: " + sql);
    }
    return Status::Ok();
  }
  sqlite3_stmt* Prepare(const char* sql) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &s, nullptr) != SQLITE_OK) {
      LOG(FATAL) << "sqlite prepare failed: " << Error() << " in: " << sql;
    }
    stmts_.push_back(s);
    return s;
  }
  std::string Error() const { return db_ ? sqlite3_errmsg(db_) : "no database"; }
  sqlite3* get() const { return db_; }

 private:
  sqlite3* db_ = nullptr;
  std::vector<sqlite3_stmt*> stmts_;
};

std::string_view ColumnText(sqlite3_stmt* s, int i) {
  const void* p = sqlite3_column_blob(s, i);
  int n = sqlite3_column_bytes(s, i);
  return p ? std::string_view(static_cast<const char*>(p), n) : std::string_view();
}

void BindText(sqlite3_stmt* s, int i, std::string_view v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
}
void BindBlob(sqlite3_stmt* s, int i, std::string_view v) {
  sqlite3_bind_blob(s, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
}

ObjectPtr MakeObject(std::string resource, std::string ns, std::string name, int64_t rv,
                     std::string json, const api::Value* parsed, int64_t expires_ms = 0) {
  auto obj = std::make_shared<StoredObject>();
  obj->resource = std::move(resource);
  obj->ns = std::move(ns);
  obj->name = std::move(name);
  obj->rv = rv;
  obj->json = std::move(json);
  obj->expires_ms = expires_ms;
  if (parsed != nullptr) {
    ExtractSelectable(obj->resource, *parsed, &obj->labels, &obj->fields);
  } else {
    auto doc = api::ParseJson(obj->json);
    if (doc.ok()) ExtractSelectable(obj->resource, *doc, &obj->labels, &obj->fields);
  }
  return obj;
}

// Sets metadata.resourceVersion and serializes.
std::string Stamp(api::Document& doc, int64_t rv) {
  api::SetString(doc, "metadata.resourceVersion", std::to_string(rv), doc.GetAllocator());
  return api::ToJson(doc);
}

class SqliteStorage : public Storage {
 public:
  explicit SqliteStorage(SqliteOptions o) : options_(std::move(o)) {
    if (!options_.clock) {
      options_.clock = [] {
        return std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
            .count();
      };
    }
  }
  ~SqliteStorage() override {
    {
      std::lock_guard<std::mutex> l(queue_mu_);
      stopping_ = true;
    }
    queue_cv_.notify_all();
    if (writer_.joinable()) writer_.join();
    dispatcher_.reset();
  }

  Status Init();

  ObjectPtr Get(const std::string& resource, const std::string& ns,
                const std::string& name) const override {
    std::shared_lock<std::shared_mutex> l(cache_mu_);
    auto r = cache_.find(resource);
    if (r == cache_.end()) return nullptr;
    auto it = r->second.find(Key(ns, name));
    return it == r->second.end() ? nullptr : it->second;
  }

  ListResult List(const std::string& resource, const std::string& ns, const Key& after,
                  size_t limit, bool* more) const override {
    ListResult out;
    if (more) *more = false;
    std::shared_lock<std::shared_mutex> l(cache_mu_);
    out.rv = revision_;
    auto r = cache_.find(resource);
    if (r == cache_.end()) return out;
    const auto& m = r->second;
    auto it = after.first.empty() && after.second.empty() ? m.lower_bound(Key(ns, ""))
                                                           : m.upper_bound(after);
    for (; it != m.end(); ++it) {
      if (!ns.empty() && it->first.first != ns) break;
      if (limit > 0 && out.items.size() == limit) {
        if (more) *more = true;
        break;
      }
      out.items.push_back(it->second);
    }
    return out;
  }

  Result<ListResult> ListAtRevision(const std::string& resource, const std::string& ns,
                                    int64_t rv) override {
    std::lock_guard<std::mutex> pl(publish_mu_);
    ListResult cur = List(resource, ns, {}, 0, nullptr);
    if (rv >= cur.rv) return cur;
    Status gone = Gone("the revision " + std::to_string(rv) +
                       " is too old to list; start again without a continue token");
    if (rv < compacted_rv_) return gone;
    std::map<Key, ObjectPtr> m;
    for (auto& o : cur.items) m[Key(o->ns, o->name)] = o;
    // Undo the events after `rv`, newest first.
    for (auto it = history_.rbegin(); it != history_.rend() && (*it)->object->rv > rv; ++it) {
      const WatchEvent& ev = **it;
      const StoredObject& o = *ev.object;
      if (o.resource != resource || (!ns.empty() && o.ns != ns)) continue;
      if (ev.type == EventType::kAdded) {
        m.erase(Key(o.ns, o.name));
      } else if (ev.prev) {
        m[Key(o.ns, o.name)] = ev.prev;
      } else {
        return gone;  // history rebuilt after a restart lacks this version
      }
    }
    ListResult out;
    out.rv = rv;
    for (auto& [k, o] : m) out.items.push_back(o);
    return out;
  }

  size_t Count(const std::string& resource) const override {
    std::shared_lock<std::shared_mutex> l(cache_mu_);
    auto r = cache_.find(resource);
    return r == cache_.end() ? 0 : r->second.size();
  }

  Status Unreadable(const std::string& resource, const std::string& ns,
                    const std::string& name) const override {
    // unreadable_ is filled before the writer thread starts and never changes after.
    auto r = unreadable_.find(resource);
    if (r == unreadable_.end()) return Status::Ok();
    auto it = name.empty() ? r->second.lower_bound(Key(ns, "")) : r->second.find(Key(ns, name));
    if (it == r->second.end() || (!ns.empty() && it->first.first != ns)) return Status::Ok();
    return it->second;
  }

  int64_t CurrentRevision() const override {
    std::shared_lock<std::shared_mutex> l(cache_mu_);
    return revision_;
  }

  std::vector<ObjectPtr> Expired(size_t limit) const override {
    std::vector<ObjectPtr> out;
    int64_t now = options_.clock();
    std::shared_lock<std::shared_mutex> l(cache_mu_);
    for (auto it = expiry_.begin(); it != expiry_.end() && out.size() < limit; ++it) {
      const auto& [expires, resource, key] = *it;
      if (expires > now) break;
      auto r = cache_.find(resource);
      if (r == cache_.end()) continue;
      auto o = r->second.find(key);
      if (o != r->second.end()) out.push_back(o->second);
    }
    return out;
  }

  void Submit(Write write, WriteCallback done) override {
    {
      std::lock_guard<std::mutex> l(queue_mu_);
      if (!stopping_) {
        queue_.push_back({std::move(write), std::move(done)});
        queue_cv_.notify_one();
        return;
      }
    }
    done(Unavailable("storage is shutting down"));
  }

  Result<std::unique_ptr<WatchHandle>> Watch(const std::string& resource, int64_t from_rv,
                                             Delivery delivery, WatchSink sink) override;

 private:
  struct Pending {
    Write write;
    WriteCallback done;
  };
  class Handle : public WatchHandle {
   public:
    Handle(SqliteStorage* s, uint64_t id, Dispatcher* d) : s_(s), id_(id), dispatcher_(d) {}
    ~Handle() override {
      if (dispatcher_ != nullptr) {
        dispatcher_->Leave(id_);
        return;
      }
      std::lock_guard<std::mutex> l(s_->publish_mu_);
      s_->subscribers_.erase(id_);
    }

   private:
    SqliteStorage* s_;
    uint64_t id_;
    Dispatcher* dispatcher_;  // null for kBeforeAck
  };

  void WriterLoop();
  // The expiry of an object of `resource` written at `now_ms`: 0 when it has no TTL.
  int64_t ExpiryFor(const std::string& resource, int64_t now_ms) const {
    auto it = options_.ttl.find(resource);
    return it == options_.ttl.end() ? 0 : now_ms + it->second.count();
  }
  // Keeps expiry_ in step with the cache as `o` replaces `prev` (either may be null).
  // Called with cache_mu_ held exclusively.
  void IndexExpiry(const ObjectPtr& prev, const ObjectPtr& o) {
    if (prev && prev->expires_ms != 0) {
      expiry_.erase(ExpiryKey{prev->expires_ms, prev->resource, Key(prev->ns, prev->name)});
    }
    if (o && o->expires_ms != 0) {
      expiry_.insert(ExpiryKey{o->expires_ms, o->resource, Key(o->ns, o->name)});
    }
  }
  void CommitBatch(std::vector<Pending>& batch);
  Status LoadState();
  // Databases from before object expiry lack objects.expires: adds it (NULL everywhere).
  Status AddExpiresColumn();
  // A stored value as JSON, parsed into *doc. Internal naming the object when it cannot
  // be decrypted or is not JSON. *stale: the current configuration would store it
  // differently.
  Result<std::string> DecodeValue(const std::string& resource, const std::string& ns,
                                  const std::string& name, std::string_view stored,
                                  api::Document* doc, bool* stale) const;
  struct Rewrite {
    bool log;  // a log row (keyed by rv) rather than an objects row
    std::string resource, ns, name;
    int64_t rv;
    std::string json;
  };
  // Rewrites values in place (same revision) in the current stored form, in batches.
  Status RewriteValues(const std::vector<Rewrite>& rewrites);

  SqliteOptions options_;
  std::shared_ptr<const Encryption> enc_;
  // Stored objects that could not be decoded at open, with the error reads of them get.
  // Filled by LoadState() before the writer thread starts, constant after.
  std::unordered_map<std::string, std::map<Key, Status>> unreadable_;
  Db db_;
  sqlite3_stmt* upsert_ = nullptr;
  sqlite3_stmt* delete_ = nullptr;
  sqlite3_stmt* log_insert_ = nullptr;
  sqlite3_stmt* log_compact_ = nullptr;
  sqlite3_stmt* meta_set_ = nullptr;

  // Cache: guarded by cache_mu_; written only by the writer thread.
  mutable std::shared_mutex cache_mu_;
  std::unordered_map<std::string, std::map<Key, ObjectPtr>> cache_;
  int64_t revision_ = 0;
  // The cached objects that have an expiry, ordered by it.
  using ExpiryKey = std::tuple<int64_t, std::string, Key>;  // (expires_ms, resource, key)
  std::set<ExpiryKey> expiry_;

  // History and kBeforeAck subscribers: guarded by publish_mu_. Lock order:
  // publish_mu_ before cache_mu_ (Watch reads the cache under both) and before the
  // Dispatcher's locks (events and new subscribers reach it in order).
  std::mutex publish_mu_;
  std::deque<EventPtr> history_;
  int64_t compacted_rv_ = 0;  // events with rv <= this are gone
  std::map<uint64_t, Subscription> subscribers_;
  uint64_t next_subscriber_ = 1;
  // kAfterAck subscribers, served by one thread per core.
  std::unique_ptr<Dispatcher> dispatcher_;

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<Pending> queue_;
  bool stopping_ = false;
  std::thread writer_;
  size_t log_rows_ = 0;
  int64_t log_min_rv_ = 0;
};

Status SqliteStorage::Init() {
  enc_ = options_.encryption ? options_.encryption : Encryption::Identity();
  RETURN_IF_ERROR(db_.Open(options_.path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                              SQLITE_OPEN_NOMUTEX));
  RETURN_IF_ERROR(db_.Exec("PRAGMA journal_mode=WAL"));
  RETURN_IF_ERROR(db_.Exec("PRAGMA synchronous=FULL"));
  RETURN_IF_ERROR(db_.Exec("PRAGMA wal_autocheckpoint=4000"));
  RETURN_IF_ERROR(db_.Exec(
      // A rowid table: objects are kilobytes, too wide for WITHOUT ROWID's clustered
      // b-tree (which bloats the file with overflow pages).
      "CREATE TABLE IF NOT EXISTS objects(resource TEXT NOT NULL, namespace TEXT NOT NULL, "
      "name TEXT NOT NULL, rv INTEGER NOT NULL, value BLOB NOT NULL, expires INTEGER, "
      "UNIQUE(resource, namespace, name));"
      "CREATE TABLE IF NOT EXISTS log(rv INTEGER PRIMARY KEY, resource TEXT NOT NULL, "
      "namespace TEXT NOT NULL, name TEXT NOT NULL, type INTEGER NOT NULL, value BLOB NOT NULL);"
      "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);"));
  RETURN_IF_ERROR(AddExpiresColumn());
  upsert_ = db_.Prepare(
      "INSERT OR REPLACE INTO objects(resource, namespace, name, rv, value, expires) "
      "VALUES(?,?,?,?,?,?)");
  delete_ = db_.Prepare("DELETE FROM objects WHERE resource=? AND namespace=? AND name=?");
  log_insert_ = db_.Prepare(
      "INSERT INTO log(rv, resource, namespace, name, type, value) VALUES(?,?,?,?,?,?)");
  log_compact_ = db_.Prepare("DELETE FROM log WHERE rv <= ?");
  meta_set_ = db_.Prepare("INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)");
  RETURN_IF_ERROR(LoadState());
  writer_ = std::thread([this] { WriterLoop(); });
  dispatcher_ =
      std::make_unique<Dispatcher>(std::clamp(std::thread::hardware_concurrency(), 1u, 8u));
  return Status::Ok();
}

Status SqliteStorage::AddExpiresColumn() {
  sqlite3_stmt* s = db_.Prepare("SELECT name FROM pragma_table_info('objects')");
  bool found = false;
  while (sqlite3_step(s) == SQLITE_ROW) found = found || ColumnText(s, 0) == "expires";
  sqlite3_reset(s);
  if (found) return Status::Ok();
  LOG(INFO) << "storage: adding the expires column to the objects table";
  return db_.Exec("ALTER TABLE objects ADD COLUMN expires INTEGER");
}

Status SqliteStorage::LoadState() {
  std::vector<Rewrite> rewrites;
  size_t unreadable = 0;
  int64_t now = options_.clock();
  sqlite3_stmt* s =
      db_.Prepare("SELECT resource, namespace, name, rv, value, expires FROM objects");
  size_t n = 0;
  while (sqlite3_step(s) == SQLITE_ROW) {
    std::string resource(ColumnText(s, 0)), ns(ColumnText(s, 1)), name(ColumnText(s, 2));
    int64_t rv = sqlite3_column_int64(s, 3);
    revision_ = std::max(revision_, rv);
    api::Document doc;
    bool stale = false;
    auto json = DecodeValue(resource, ns, name, ColumnText(s, 4), &doc, &stale);
    if (!json.ok()) {
      LOG(ERROR) << "storage: " << json.status().message();
      unreadable_[resource][Key(ns, name)] = json.status();
      ++unreadable;
      continue;
    }
    if (stale) rewrites.push_back({false, resource, ns, name, rv, *json});
    // A TTL resource's object stored without an expiry gets a full TTL from now.
    int64_t expires = sqlite3_column_type(s, 5) == SQLITE_NULL ? ExpiryFor(resource, now)
                                                                : sqlite3_column_int64(s, 5);
    auto obj = MakeObject(std::move(resource), std::move(ns), std::move(name), rv,
                          std::move(json).value(), &doc, expires);
    cache_[obj->resource][Key(obj->ns, obj->name)] = obj;
    IndexExpiry(nullptr, obj);
    ++n;
  }
  sqlite3_stmt* m = db_.Prepare("SELECT value FROM meta WHERE key='compacted'");
  if (sqlite3_step(m) == SQLITE_ROW) compacted_rv_ = sqlite3_column_int64(m, 0);
  sqlite3_reset(m);  // ends its read transaction (the WAL checkpoint in RewriteValues waits on it)
  // Rebuild the watch history from the log. prev is filled from the previous event of
  // the same key within the kept history (good enough for selector transitions).
  std::map<std::tuple<std::string, std::string, std::string>, ObjectPtr> last;
  sqlite3_stmt* l =
      db_.Prepare("SELECT rv, resource, namespace, name, type, value FROM log ORDER BY rv");
  size_t lost_history = 0;
  while (sqlite3_step(l) == SQLITE_ROW) {
    std::string resource(ColumnText(l, 1)), ns(ColumnText(l, 2)), name(ColumnText(l, 3));
    int64_t rv = sqlite3_column_int64(l, 0);
    revision_ = std::max(revision_, rv);
    api::Document doc;
    bool stale = false;
    auto json = DecodeValue(resource, ns, name, ColumnText(l, 5), &doc, &stale);
    if (!json.ok()) {
      // Watches cannot resume across an event we cannot reproduce: the history starts
      // after it (the row goes with the next compaction).
      lost_history += history_.size() + 1;
      history_.clear();
      last.clear();
      compacted_rv_ = std::max(compacted_rv_, rv);
      continue;
    }
    if (stale) rewrites.push_back({true, resource, ns, name, rv, *json});
    auto obj = MakeObject(std::move(resource), std::move(ns), std::move(name), rv,
                          std::move(json).value(), &doc);
    auto type = static_cast<EventType>(sqlite3_column_int(l, 4));
    auto key = std::make_tuple(obj->resource, obj->ns, obj->name);
    auto ev = std::make_shared<WatchEvent>();
    ev->type = type;
    ev->object = obj;
    ev->prev = last.count(key) ? last[key] : nullptr;
    ev->line = EncodeWatchLine(type, obj->json);
    last[key] = obj;
    if (history_.empty()) log_min_rv_ = obj->rv;
    history_.push_back(std::move(ev));
  }
  if (lost_history > 0) {
    LOG(WARNING) << "storage: " << lost_history
                 << " watch history entries dropped: the log holds values that cannot be "
                    "decrypted; watches resume from revision "
                 << compacted_rv_;
  }
  log_rows_ = history_.size();
  if (!history_.empty()) compacted_rv_ = std::max(compacted_rv_, history_.front()->object->rv - 1);
  // No history at all: nothing before the current revision can be resumed.
  if (history_.empty()) compacted_rv_ = revision_;
  LOG(INFO) << "storage: loaded " << n << " objects and " << history_.size()
            << " log entries at revision " << revision_ << " from " << options_.path;
  if (unreadable > 0) {
    LOG(ERROR) << "storage: " << unreadable
               << " stored objects cannot be decrypted with the configured encryption "
                  "providers; reads of them fail until a provider that can is configured";
  }
  return RewriteValues(rewrites);
}

Result<std::string> SqliteStorage::DecodeValue(const std::string& resource, const std::string& ns,
                                               const std::string& name, std::string_view stored,
                                               api::Document* doc, bool* stale) const {
  std::string what = resource + " \"" + (ns.empty() ? name : ns + "/" + name) + "\"";
  auto d = enc_->Decode(resource, Encryption::StorageKey(resource, ns, name), stored);
  if (!d.ok()) return Internal("unable to decrypt " + what + " stored at rest: " + d.status().message());
  auto parsed = api::ParseJson(d->json);
  // Also what a wrong aescbc key yields when the padding happens to check out.
  if (!parsed.ok() || !parsed->IsObject()) {
    return Internal("the stored value of " + what + " is not a JSON object");
  }
  *doc = std::move(*parsed);
  *stale = d->stale;
  return std::move(d->json);
}

Status SqliteStorage::RewriteValues(const std::vector<Rewrite>& rewrites) {
  if (rewrites.empty()) return Status::Ok();
  sqlite3_stmt* obj = db_.Prepare(
      "UPDATE objects SET value=? WHERE resource=? AND namespace=? AND name=? AND rv=?");
  sqlite3_stmt* log = db_.Prepare("UPDATE log SET value=? WHERE rv=?");
  // Zero what the old values leave behind in freed space (Debian's SQLite does by default;
  // kept on afterwards), then truncate the WAL below, so no plaintext (or value under a
  // retired key) stays on disk.
  RETURN_IF_ERROR(db_.Exec("PRAGMA secure_delete=ON"));
  constexpr size_t kBatch = 1000;
  size_t objects = 0;
  for (size_t start = 0; start < rewrites.size(); start += kBatch) {
    Status tx = db_.Exec("BEGIN IMMEDIATE");
    for (size_t i = start; i < std::min(rewrites.size(), start + kBatch) && tx.ok(); ++i) {
      const Rewrite& r = rewrites[i];
      auto stored = enc_->Encode(r.resource, Encryption::StorageKey(r.resource, r.ns, r.name),
                                 r.json);
      if (!stored.ok()) {
        tx = stored.status();
        break;
      }
      sqlite3_stmt* st = r.log ? log : obj;
      BindBlob(st, 1, *stored);
      if (r.log) {
        sqlite3_bind_int64(st, 2, r.rv);
      } else {
        BindText(st, 2, r.resource);
        BindText(st, 3, r.ns);
        BindText(st, 4, r.name);
        sqlite3_bind_int64(st, 5, r.rv);
        ++objects;
      }
      if (sqlite3_step(st) != SQLITE_DONE) tx = Internal("sqlite update: " + db_.Error());
      sqlite3_reset(st);
    }
    if (tx.ok()) tx = db_.Exec("COMMIT");
    if (!tx.ok()) {
      Status ignored = db_.Exec("ROLLBACK");
      (void)ignored;
      return Internal("storage: rewriting stored values with the current encryption "
                      "configuration failed: " + tx.message());
    }
  }
  RETURN_IF_ERROR(db_.Exec("PRAGMA wal_checkpoint(TRUNCATE)"));
  LOG(INFO) << "storage: rewrote " << objects << " objects and " << rewrites.size() - objects
            << " log entries in the current encryption configuration's form (revisions kept)";
  return Status::Ok();
}

void SqliteStorage::WriterLoop() {
  std::vector<Pending> batch;
  for (;;) {
    {
      std::unique_lock<std::mutex> l(queue_mu_);
      queue_cv_.wait(l, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty() && stopping_) return;
      while (!queue_.empty() && batch.size() < options_.max_batch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    CommitBatch(batch);
    batch.clear();
  }
}

void SqliteStorage::CommitBatch(std::vector<Pending>& batch) {
  struct Applied {
    size_t index;  // into batch
    EventPtr event;
  };
  std::vector<Applied> applied;
  std::vector<Status> failures(batch.size());
  // Effects of earlier writes of this batch on later ones.
  std::map<std::tuple<std::string, std::string, std::string>, ObjectPtr> overlay;
  auto current = [&](const Write& w) -> ObjectPtr {
    auto it = overlay.find(std::make_tuple(w.resource, w.ns, w.name));
    if (it != overlay.end()) return it->second;
    return Get(w.resource, w.ns, w.name);
  };
  int64_t rv = revision_;
  int64_t now = options_.clock();  // the batch's writes' time, for expiries
  Status tx = db_.Exec("BEGIN IMMEDIATE");
  for (size_t i = 0; i < batch.size() && tx.ok(); ++i) {
    Write& w = batch[i].write;
    ObjectPtr cur = current(w);
    std::string what = w.resource + " \"" + w.name + "\"";
    if (Status st = Unreadable(w.resource, w.ns, w.name); !st.ok()) {
      failures[i] = st;
      continue;
    }
    if (w.kind == Write::Kind::kCreate && cur) {
      failures[i] = AlreadyExists(what + " already exists");
      continue;
    }
    if (w.kind != Write::Kind::kCreate && !cur) {
      failures[i] = NotFound(what + " not found");
      continue;
    }
    if (w.kind != Write::Kind::kCreate && w.expected_rv != 0 && cur->rv != w.expected_rv) {
      failures[i] = Conflict("Operation cannot be fulfilled on " + what +
                             ": the object has been modified; please apply your changes to "
                             "the latest version and try again");
      continue;
    }
    ++rv;
    std::string key = Encryption::StorageKey(w.resource, w.ns, w.name);
    Result<std::string> stored = std::string();  // the value as written to disk
    auto ev = std::make_shared<WatchEvent>();
    ev->prev = cur;
    if (w.kind == Write::Kind::kDelete) {
      ev->type = EventType::kDeleted;
      auto doc = api::ParseJson(cur->json);
      std::string json = doc.ok() ? Stamp(*doc, rv) : cur->json;
      ev->object = MakeObject(w.resource, w.ns, w.name, rv, std::move(json), nullptr);
      stored = enc_->Encode(w.resource, key, ev->object->json);  // for the log row
      if (!stored.ok()) {
        tx = stored.status();
        break;
      }
      sqlite3_stmt* s = delete_;
      BindText(s, 1, w.resource);
      BindText(s, 2, w.ns);
      BindText(s, 3, w.name);
      if (sqlite3_step(s) != SQLITE_DONE) tx = Internal("sqlite delete: " + db_.Error());
      sqlite3_reset(s);
    } else {
      ev->type = w.kind == Write::Kind::kCreate ? EventType::kAdded : EventType::kModified;
      std::string json = Stamp(w.object, rv);
      ev->object = MakeObject(w.resource, w.ns, w.name, rv, std::move(json), &w.object,
                              ExpiryFor(w.resource, now));
      stored = enc_->Encode(w.resource, key, ev->object->json);
      if (!stored.ok()) {
        tx = stored.status();
        break;
      }
      sqlite3_stmt* s = upsert_;
      BindText(s, 1, w.resource);
      BindText(s, 2, w.ns);
      BindText(s, 3, w.name);
      sqlite3_bind_int64(s, 4, rv);
      BindBlob(s, 5, *stored);
      if (ev->object->expires_ms != 0) {
        sqlite3_bind_int64(s, 6, ev->object->expires_ms);
      } else {
        sqlite3_bind_null(s, 6);
      }
      if (sqlite3_step(s) != SQLITE_DONE) tx = Internal("sqlite upsert: " + db_.Error());
      sqlite3_reset(s);
    }
    sqlite3_stmt* s = log_insert_;
    sqlite3_bind_int64(s, 1, rv);
    BindText(s, 2, w.resource);
    BindText(s, 3, w.ns);
    BindText(s, 4, w.name);
    sqlite3_bind_int(s, 5, static_cast<int>(ev->type));
    BindBlob(s, 6, *stored);
    if (tx.ok() && sqlite3_step(s) != SQLITE_DONE) tx = Internal("sqlite log: " + db_.Error());
    sqlite3_reset(s);
    ev->line = EncodeWatchLine(ev->type, ev->object->json);
    overlay[std::make_tuple(w.resource, w.ns, w.name)] =
        ev->type == EventType::kDeleted ? nullptr : ev->object;
    applied.push_back({i, std::move(ev)});
  }
  // Compaction: drop at most compact_step of the oldest log rows per transaction.
  int64_t compact_to = 0;
  size_t rows_after = log_rows_ + applied.size();
  if (tx.ok() && rows_after > options_.history + options_.compact_step) {
    size_t drop = std::min(options_.compact_step, rows_after - options_.history);
    compact_to = log_min_rv_ + static_cast<int64_t>(drop) - 1;
    sqlite3_bind_int64(log_compact_, 1, compact_to);
    if (sqlite3_step(log_compact_) != SQLITE_DONE) tx = Internal("sqlite compact: " + db_.Error());
    sqlite3_reset(log_compact_);
    if (tx.ok()) {
      BindText(meta_set_, 1, "compacted");
      sqlite3_bind_int64(meta_set_, 2, compact_to);
      if (sqlite3_step(meta_set_) != SQLITE_DONE) tx = Internal("sqlite meta: " + db_.Error());
      sqlite3_reset(meta_set_);
    }
  }
  if (tx.ok()) tx = db_.Exec("COMMIT");
  if (!tx.ok()) {
    Status ignored = db_.Exec("ROLLBACK");
    (void)ignored;
    LOG(ERROR) << "storage: transaction failed: " << tx.message();
    for (auto& p : batch) p.done(Internal("storage write failed: " + tx.message()));
    return;
  }
  // Durable: publish to the cache, the history and the watchers, then answer.
  {
    std::lock_guard<std::mutex> pl(publish_mu_);
    {
      std::unique_lock<std::shared_mutex> cl(cache_mu_);
      for (auto& a : applied) {
        const auto& o = a.event->object;
        auto& m = cache_[o->resource];
        if (a.event->type == EventType::kDeleted) {
          m.erase(Key(o->ns, o->name));
          IndexExpiry(a.event->prev, nullptr);
        } else {
          m[Key(o->ns, o->name)] = o;
          IndexExpiry(a.event->prev, o);
        }
      }
      revision_ = rv;
    }
    for (auto& a : applied) {
      if (history_.empty()) log_min_rv_ = a.event->object->rv;
      history_.push_back(a.event);
      for (auto& [id, sub] : subscribers_) sub.Deliver(a.event);
    }
    std::vector<EventPtr> events;
    for (auto& a : applied) events.push_back(a.event);
    dispatcher_->Publish(events);
    log_rows_ += applied.size();
    if (compact_to > 0) {
      while (!history_.empty() && history_.front()->object->rv <= compact_to) {
        history_.pop_front();
        --log_rows_;
      }
      compacted_rv_ = compact_to;
      log_min_rv_ = history_.empty() ? rv + 1 : history_.front()->object->rv;
    }
  }
  size_t next = 0;
  for (size_t i = 0; i < batch.size(); ++i) {
    if (next < applied.size() && applied[next].index == i) {
      batch[i].done(applied[next].event->object);
      ++next;
    } else {
      batch[i].done(std::move(failures[i]));
    }
  }
}

Result<std::unique_ptr<WatchHandle>> SqliteStorage::Watch(const std::string& resource,
                                                          int64_t from_rv, Delivery delivery,
                                                          WatchSink sink) {
  std::lock_guard<std::mutex> pl(publish_mu_);
  int64_t now = CurrentRevision();
  if (from_rv == 0) {
    std::vector<ObjectPtr> items = List(resource, "", {}, 0, nullptr).items;
    for (auto& o : items) {
      auto ev = std::make_shared<WatchEvent>();
      ev->type = EventType::kAdded;
      ev->object = o;
      ev->line = EncodeWatchLine(EventType::kAdded, o->json);
      sink(ev);
    }
  } else if (from_rv < now) {
    if (from_rv < compacted_rv_) {
      return Gone("too old resource version: " + std::to_string(from_rv) + " (" +
                  std::to_string(compacted_rv_ + 1) + ")");
    }
    auto it = std::upper_bound(history_.begin(), history_.end(), from_rv,
                               [](int64_t v, const EventPtr& e) { return v < e->object->rv; });
    for (; it != history_.end(); ++it) {
      if ((*it)->object->resource == resource) sink(*it);
    }
  }
  // from_rv > now: a revision from the future is fine (events start after it), as etcd.
  uint64_t id = next_subscriber_++;
  Subscription sub{resource, std::move(sink), std::max(now, from_rv)};
  Dispatcher* dispatcher = nullptr;
  if (delivery == Delivery::kBeforeAck) {
    subscribers_[id] = std::move(sub);
  } else {
    dispatcher = dispatcher_.get();
    dispatcher->Join(id, std::move(sub));
  }
  return std::unique_ptr<WatchHandle>(std::make_unique<Handle>(this, id, dispatcher));
}

}  // namespace

Result<std::unique_ptr<Storage>> OpenSqliteStorage(const SqliteOptions& options) {
  auto s = std::make_unique<SqliteStorage>(options);
  RETURN_IF_ERROR(s->Init());
  return std::unique_ptr<Storage>(std::move(s));
}

Status BackupDatabase(const std::string& db_path, const std::string& dest) {
  Db src, dst;
  RETURN_IF_ERROR(src.Open(db_path, SQLITE_OPEN_READONLY));
  RETURN_IF_ERROR(dst.Open(dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE));
  sqlite3_backup* b = sqlite3_backup_init(dst.get(), "main", src.get(), "main");
  if (b == nullptr) return Internal("backup: " + dst.Error());
  int rc;
  // Small steps so a live server's writer is never blocked for long.
  while ((rc = sqlite3_backup_step(b, 256)) == SQLITE_OK || rc == SQLITE_BUSY ||
         rc == SQLITE_LOCKED) {
    if (rc != SQLITE_OK) sqlite3_sleep(5);
  }
  sqlite3_backup_finish(b);
  if (rc != SQLITE_DONE) return Internal("backup failed: " + dst.Error());
  return Status::Ok();
}

}  // namespace kubepp::apiserver
