// The apiserver's storage contract: current objects keyed by (resource, namespace,
// name), one global revision counter, durable writes, and watch from a revision.
//
// Reads (Get/List) come from memory and never wait for the disk. Writes go through
// Submit(): the callback fires once the write is durably committed (or failed). Watch
// events are published in revision order, each object serialized once and shared.
//
// Thread safety: all methods are safe from any thread. Write callbacks run on the
// storage's writer thread and must not block; watch sinks, see Delivery.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/api/json.h"
#include "common/status.h"

namespace kubepp::apiserver {

// One version of one object. Immutable once published.
struct StoredObject {
  std::string resource;  // qualified resource name, e.g. "pods", "deployments.apps"
  std::string ns;        // "" for cluster-scoped
  std::string name;
  int64_t rv = 0;        // the revision that wrote this version
  std::string json;      // the object, with metadata.resourceVersion == rv
  std::map<std::string, std::string> labels;
  // Values of the fields field selectors may name (see SelectableFields()).
  std::vector<std::pair<std::string, std::string>> fields;
  // Unix milliseconds from which the object counts as expired (its resource has a TTL,
  // SqliteOptions::ttl: its last write + the TTL); 0: never.
  int64_t expires_ms = 0;

  // The value of a selectable field, "" when absent.
  std::string Field(std::string_view field) const;
};
using ObjectPtr = std::shared_ptr<const StoredObject>;

// Whether `o` has expired at `now_ms` (Unix milliseconds): it has an expiry and that is
// not after now.
bool IsExpired(const StoredObject& o, int64_t now_ms);

enum class EventType { kAdded, kModified, kDeleted };
std::string_view EventTypeName(EventType t);

struct WatchEvent {
  EventType type;
  ObjectPtr object;  // for kDeleted: the last state, carrying the deletion revision
  ObjectPtr prev;    // the previous version for kModified/kDeleted, else null
  // `{"type":"ADDED","object":{...}}\n`, built once at publish time.
  std::shared_ptr<const std::string> line;
};
using EventPtr = std::shared_ptr<const WatchEvent>;

// Builds the watch line for an event type and object JSON.
std::shared_ptr<const std::string> EncodeWatchLine(EventType type, const std::string& json);

struct Write {
  enum class Kind { kCreate, kUpdate, kDelete };
  Kind kind = Kind::kCreate;
  std::string resource;
  std::string ns;
  std::string name;
  // kUpdate/kDelete: the write fails with Conflict unless the current revision equals
  // this; 0 means no precondition. kUpdate/kDelete of a missing object is NotFound;
  // kCreate of an existing one AlreadyExists.
  int64_t expected_rv = 0;
  // kCreate/kUpdate: the full object; storage sets metadata.resourceVersion.
  api::Document object;
};
using WriteCallback = std::function<void(Result<ObjectPtr>)>;

// Receives events in revision order, one call at a time. A sink must not call back
// into the storage.
using WatchSink = std::function<void(const EventPtr&)>;

// When a watch sink sees a write, relative to the writer's acknowledgement.
enum class Delivery {
  // Before the write is acknowledged, on the writer thread: once Submit's callback
  // runs, every such sink has seen the write. Each one delays every write, so this is
  // for the apiserver's own small caches that decide requests (RBAC, the node graph),
  // which must never lag a write that was acknowledged.
  kBeforeAck,
  // After the write is acknowledged, from the storage's dispatcher threads (dispatcher.h),
  // which fan each event out to every such sink while the writer goes on committing: a
  // thousand watchers do not delay a write. For clients' watches.
  kAfterAck,
};

// Must not outlive the Storage that returned it.
class WatchHandle {
 public:
  // Unsubscribes: once the destructor returns, the sink is never called again (it
  // waits for a call in progress). Must not run inside the handle's own sink.
  virtual ~WatchHandle() = default;
};

class Storage {
 public:
  virtual ~Storage() = default;

  virtual ObjectPtr Get(const std::string& resource, const std::string& ns,
                        const std::string& name) const = 0;

  struct ListResult {
    std::vector<ObjectPtr> items;  // ordered by (namespace, name)
    int64_t rv = 0;                // the revision the list reflects
  };
  // All objects of `resource` in `ns` ("" = every namespace) whose (ns, name) key
  // sorts after `after` (for paging; empty = from the start), at most `limit` (0 = all).
  // `more` is set when items remain after the last one returned.
  virtual ListResult List(const std::string& resource, const std::string& ns,
                          const std::pair<std::string, std::string>& after = {},
                          size_t limit = 0, bool* more = nullptr) const = 0;
  // Every object of `resource` in `ns` as it was at revision `rv` (for paging with a
  // continue token and exact-revision lists). Gone when that revision can no longer be
  // reconstructed from the kept history.
  virtual Result<ListResult> ListAtRevision(const std::string& resource, const std::string& ns,
                                            int64_t rv) = 0;
  virtual size_t Count(const std::string& resource) const = 0;
  // Objects whose stored value cannot be read (encryption at rest: no configured provider
  // decrypts it, see encryption.h) are kept out of Get/List/Watch, so no reader ever sees
  // them, and every write to them fails with Internal. This reports them: Internal naming
  // an unreadable object of `resource` in `ns` ("" = every namespace) called `name`
  // ("" = any name), else Ok.
  virtual Status Unreadable(const std::string& resource, const std::string& ns,
                            const std::string& name) const = 0;
  virtual int64_t CurrentRevision() const = 0;
  // Objects that have expired by now (IsExpired at the storage's clock), earliest expiry
  // first, at most `limit`. Expired objects stay readable until deleted: the storage
  // does not delete them itself; ExpirySweeper (expiry.h) does, through Submit, so that
  // watchers see DELETED events. Costs O(log n + returned) (an in-memory index by expiry).
  virtual std::vector<ObjectPtr> Expired(size_t limit) const = 0;

  virtual void Submit(Write write, WriteCallback done) = 0;
  // Blocking convenience for startup code and tests.
  Result<ObjectPtr> SubmitAndWait(Write write);

  // Subscribes to the events of `resource` (every namespace; the sink filters) with a
  // revision greater than `from_rv`. from_rv == 0: first an ADDED event for every
  // current object, then live events. Gone when from_rv is older than the kept history.
  // The events up to the current revision reach the sink before Watch returns, on the
  // calling thread; later ones as `delivery` says.
  virtual Result<std::unique_ptr<WatchHandle>> Watch(const std::string& resource,
                                                     int64_t from_rv, Delivery delivery,
                                                     WatchSink sink) = 0;
};

class Encryption;

struct SqliteOptions {
  std::string path;              // database file
  // How values are written to disk (objects and log tables); null: plain JSON. At open,
  // every stored value that is not in the form the current configuration writes (an older
  // key, another provider, plaintext of a now-encrypted resource) is rewritten in place,
  // keeping its revision: the logical object is unchanged.
  std::shared_ptr<const Encryption> encryption;
  size_t history = 10000;        // revisions kept for watch resumption
  size_t compact_step = 1000;    // most log rows deleted per transaction
  size_t max_batch = 2048;       // most writes per transaction
  // Resources whose objects expire this long after their last write (create or update),
  // as upstream's --event-ttl on events (an etcd lease per write). The expiry is stored
  // with the object. Objects of these resources stored without one (written before the
  // TTL was configured) expire this long after the storage opens.
  std::map<std::string, std::chrono::milliseconds> ttl;
  // The time in Unix milliseconds, for expiries; null: the system clock (tests set one).
  std::function<int64_t()> clock;
};

// The SQLite implementation (WAL, group commit).
Result<std::unique_ptr<Storage>> OpenSqliteStorage(const SqliteOptions& options);

// Online backup of a (possibly live) database file to `dest` with SQLite's backup API.
Status BackupDatabase(const std::string& db_path, const std::string& dest);

// The labels and selectable fields of an object (computed once per write).
void ExtractSelectable(const std::string& resource, const api::Value& obj,
                       std::map<std::string, std::string>* labels,
                       std::vector<std::pair<std::string, std::string>>* fields);
// Whether `field` may be used in a field selector on `resource`.
bool IsSelectableField(const std::string& resource, std::string_view field);

}  // namespace kubepp::apiserver
