#include "apiserver/api.h"

#include <algorithm>
#include <chrono>

#include "apiserver/admission.h"
#include "apiserver/discovery.h"
#include "apiserver/protobuf.h"
#include "apiserver/table.h"
#include "common/api/selector.h"
#include "common/api/yaml.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/util/time.h"

namespace kubepp::apiserver {

bool IsTrue(const std::string& v) { return v == "true" || v == "1" || v == "True"; }

namespace {

std::string ToHex(std::string_view s) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

bool FromHex(std::string_view s, std::string* out) {
  if (s.size() % 2) return false;
  auto val = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (size_t i = 0; i < s.size(); i += 2) {
    int hi = val(s[i]), lo = val(s[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
  }
  return true;
}

// Continue tokens: hex of "<rv>\n<namespace>\n<name>", opaque to clients.
std::string EncodeContinue(int64_t rv, const std::string& ns, const std::string& name) {
  return ToHex(std::to_string(rv) + "\n" + ns + "\n" + name);
}

Status DecodeContinue(const std::string& token, int64_t* rv,
                      std::pair<std::string, std::string>* after) {
  std::string raw;
  Status bad = BadRequest("invalid continue token \"" + token + "\"");
  if (!FromHex(token, &raw)) return bad;
  size_t a = raw.find('\n');
  size_t b = a == std::string::npos ? a : raw.find('\n', a + 1);
  if (b == std::string::npos) return bad;
  *rv = std::atoll(raw.substr(0, a).c_str());
  after->first = raw.substr(a + 1, b - a - 1);
  after->second = raw.substr(b + 1);
  return Status::Ok();
}

// Label + field selection of one request.
struct Filter {
  std::optional<api::LabelSelector> labels;
  std::optional<api::FieldSelector> fields;
  std::string ns;

  bool Matches(const StoredObject& o) const {
    if (!ns.empty() && o.ns != ns) return false;
    if (labels && !labels->Matches(o.labels)) return false;
    if (fields && !fields->Matches([&](std::string_view f) { return o.Field(f); })) return false;
    return true;
  }
};

Result<Filter> ParseFilter(const http::Request& req, const RequestInfo& info) {
  Filter f;
  f.ns = info.ns;
  if (auto s = req.Query("labelSelector"); !s.empty()) {
    ASSIGN_OR_RETURN(f.labels, api::LabelSelector::Parse(s));
  }
  if (auto s = req.Query("fieldSelector"); !s.empty()) {
    ASSIGN_OR_RETURN(f.fields, api::FieldSelector::Parse(s));
    for (const auto& r : f.fields->requirements()) {
      if (!IsSelectableField(info.resource->QualifiedName(), r.field)) {
        return BadRequest("field label not supported: " + r.field);
      }
    }
  }
  return f;
}

// The one-row Table (or plain JSON) form of an object for a watch event.
std::string TableRow(const ResourceInfo& r, const std::string& json, IncludeObject include) {
  auto doc = api::ParseJson(json);
  if (!doc.ok()) return json;
  std::vector<const api::Value*> objs = {&doc.value()};
  return BuildTable(r, objs, include, "", "", util::NowUnix());
}

// Records each answer in the request metrics, then forwards it.
class MeteredWriter : public http::ResponseWriter {
 public:
  MeteredWriter(std::shared_ptr<http::ResponseWriter> w, std::string verb, std::string resource)
      : w_(std::move(w)), verb_(std::move(verb)), resource_(std::move(resource)),
        start_(std::chrono::steady_clock::now()) {}
  void Send(http::Response r) override {
    Record(r.status);
    w_->Send(std::move(r));
  }
  void StartStream(int status, const std::string& type,
                   std::vector<std::pair<std::string, std::string>> headers) override {
    Record(status);
    w_->StartStream(status, type, std::move(headers));
  }
  bool WriteChunk(std::shared_ptr<const std::string> d) override { return w_->WriteChunk(std::move(d)); }
  void EndStream() override { w_->EndStream(); }
  bool Closed() const override { return w_->Closed(); }
  void OnClose(std::function<void()> fn) override { w_->OnClose(std::move(fn)); }

 private:
  void Record(int code) {
    static auto& total = metrics::Registry::Default().AddCounterVec(
        "apiserver_request_total", "Requests by verb, resource and HTTP code.",
        {"verb", "resource", "code"});
    static auto& latency = metrics::Registry::Default().AddHistogramVec(
        "apiserver_request_duration_seconds", "Time to the first byte of the answer.",
        {"verb", "resource"}, metrics::DefaultBuckets());
    total.WithLabelValues({verb_, resource_, std::to_string(code)}).Inc();
    latency.WithLabelValues({verb_, resource_})
        .Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
  }
  std::shared_ptr<http::ResponseWriter> w_;
  std::string verb_, resource_;
  std::chrono::steady_clock::time_point start_;
};

// Upstream's verb names, as in its request metrics.
std::string VerbOf(const http::Request& req, const RequestInfo& info) {
  const std::string& m = req.method;
  if (m == "GET") {
    if (!info.name.empty()) return "get";
    return IsTrue(req.Query("watch")) ? "watch" : "list";
  }
  if (m == "POST") return "create";
  if (m == "PUT") return "update";
  if (m == "PATCH") return "patch";
  if (m == "DELETE") return info.name.empty() ? "deletecollection" : "delete";
  return "other";
}

}  // namespace

// One open watch. The sink runs on the storage's writer thread (events in revision
// order); the ticker thread sends bookmarks and ends expired streams. `mu` orders the
// two so a bookmark never overtakes an event it covers.
struct WatchStream {
  std::shared_ptr<http::ResponseWriter> writer;
  const ResourceInfo* resource = nullptr;
  Filter filter;
  bool table = false;
  IncludeObject include = IncludeObject::kMetadata;
  bool bookmarks = false;
  std::chrono::steady_clock::time_point deadline;
  std::chrono::steady_clock::time_point next_bookmark;

  std::mutex mu;
  int64_t last_rv = 0;  // newest revision seen (sent or filtered out)
  std::atomic<bool> done{false};
  std::unique_ptr<WatchHandle> handle;  // guarded by the Api's watches_mu_

  void Send(EventType type, const ObjectPtr& obj, const std::shared_ptr<const std::string>& line) {
    if (!table) {
      if (!writer->WriteChunk(line)) done = true;
      return;
    }
    std::string out = R"({"type":")" + std::string(EventTypeName(type)) + R"(","object":)" +
                      TableRow(*resource, obj->json, include) + "}\n";
    if (!writer->WriteChunk(std::move(out))) done = true;
  }

  void OnEvent(const EventPtr& ev) {
    std::lock_guard<std::mutex> l(mu);
    last_rv = ev->object->rv;
    if (done) return;
    bool now = filter.Matches(*ev->object);
    bool before = ev->prev && filter.Matches(*ev->prev);
    switch (ev->type) {
      case EventType::kAdded:
        if (now) Send(ev->type, ev->object, ev->line);
        break;
      case EventType::kModified:
        // Selector transitions become ADDED/DELETED for this watcher, as upstream.
        if (now && before) {
          Send(ev->type, ev->object, ev->line);
        } else if (now) {
          Send(EventType::kAdded, ev->object, EncodeWatchLine(EventType::kAdded, ev->object->json));
        } else if (before) {
          Send(EventType::kDeleted, ev->object,
               EncodeWatchLine(EventType::kDeleted, ev->object->json));
        }
        break;
      case EventType::kDeleted:
        if (before || now) Send(ev->type, ev->object, ev->line);
        break;
    }
  }

  void Bookmark() {
    std::lock_guard<std::mutex> l(mu);
    if (done || last_rv == 0) return;
    std::string out = R"({"type":"BOOKMARK","object":{"kind":")" + resource->kind +
                      R"(","apiVersion":")" + resource->ApiVersion() +
                      R"(","metadata":{"resourceVersion":")" + std::to_string(last_rv) +
                      R"("}}})" + "\n";
    if (!writer->WriteChunk(std::move(out))) done = true;
  }
};

bool WantsTable(const http::Request& req) {
  return req.Header("accept").find("as=Table") != std::string_view::npos;
}

bool IsDryRun(const http::Request& req) { return req.Query("dryRun") == "All"; }

Result<api::Document> DecodeBody(const http::Request& req) {
  std::string_view ct = req.Header("content-type");
  if (req.body.empty()) return BadRequest("the request body is empty");
  if (ct.find("yaml") != std::string_view::npos) return api::ParseJsonOrYaml(req.body);
  // kubectl's typed clients (create deployment/configmap/secret/...) send protobuf.
  if (ct.substr(0, ct.find(';')) == kProtobufContentType) return DecodeProtobufObject(req.body);
  if (!ct.empty() && ct.find("json") == std::string_view::npos) {
    return Status(Code::kUnsupportedMedia,
                  "the body of the request was in an unknown format - accepted media types "
                  "include: application/json, application/yaml, "
                  "application/vnd.kubernetes.protobuf");
  }
  return api::ParseJson(req.body);
}

Api::Api(ApiServerOptions options, std::unique_ptr<Storage> storage, IpAllocator ips,
         PortAllocator ports)
    : options_(std::move(options)),
      storage_(std::move(storage)),
      ips_(std::move(ips)),
      ports_(std::move(ports)) {
  ticker_ = std::thread([this] { WatchTicker(); });
}

Api::~Api() {
  {
    std::lock_guard<std::mutex> l(watches_mu_);
    stopping_ = true;
  }
  ticker_cv_.notify_all();
  ticker_.join();
  std::lock_guard<std::mutex> l(watches_mu_);
  for (auto& ws : watches_) ws->handle.reset();
  watches_.clear();
}

void Api::SendStatus(const Writer& w, const Status& st) {
  http::Response r;
  r.status = st.http_status();
  r.body = st.ToJson();
  if (st.code() == Code::kTooManyRequests) r.headers.push_back({"Retry-After", "1"});
  w->Send(std::move(r));
}

void Api::SendJson(const http::Request& req, const Writer& w, int code, std::string json,
                   const std::vector<std::string>& warnings) {
  http::Response r;
  r.status = code;
  for (const auto& text : warnings) {
    std::string quoted;
    api::AppendQuoted(quoted, text);
    r.headers.push_back({"Warning", "299 - " + quoted});
  }
  std::string_view accept = req.Header("accept");
  if (accept.find("application/yaml") != std::string_view::npos &&
      accept.find("json") == std::string_view::npos) {
    auto doc = api::ParseJson(json);
    if (doc.ok()) {
      r.content_type = "application/yaml";
      r.body = api::ToYaml(*doc);
      w->Send(std::move(r));
      return;
    }
  }
  if (req.Query("pretty") == "true" || req.Query("pretty") == "1") {
    auto doc = api::ParseJson(json);
    if (doc.ok()) json = api::ToPrettyJson(*doc);
  }
  r.body = std::move(json);
  w->Send(std::move(r));
}

void Api::SendObject(const http::Request& req, const Writer& w, int code, const ObjectPtr& obj,
                     const std::vector<std::string>& warnings) {
  if (WantsTable(req)) {
    const ResourceInfo* r = nullptr;
    for (const auto& ri : AllResources()) {
      if (ri.QualifiedName() == obj->resource) r = &ri;
    }
    auto include = ParseIncludeObject(req.Query("includeObject"));
    if (r != nullptr && include.ok()) {
      SendJson(req, w, code, TableRow(*r, obj->json, *include), warnings);
      return;
    }
  }
  SendJson(req, w, code, obj->json, warnings);
}

Api::Done Api::Respond(const http::Request& req, const Writer& w, int code,
                       std::vector<std::string> warnings) {
  // Copy what the response needs: the request dies with the handler's frame.
  http::Request slim;
  slim.headers = req.headers;
  slim.query = req.query;
  return [this, slim = std::move(slim), w, code, warnings = std::move(warnings)](Result<ObjectPtr> r) {
    if (!r.ok()) return SendStatus(w, r.status());
    SendObject(slim, w, code, *r, warnings);
  };
}

Status Api::CheckNamespace(const RequestInfo& info, const std::string& ns,
                           const std::string& name, bool creating) {
  if (!info.resource->namespaced) return Status::Ok();
  auto obj = storage_->Get("namespaces", "", ns);
  if (obj == nullptr) {
    return NotFound("namespaces \"" + ns + "\" not found").WithDetails(ns, "", "namespaces");
  }
  if (creating && obj->json.find("\"deletionTimestamp\"") != std::string::npos) {
    return Status(Code::kForbidden, info.resource->QualifiedName() + " \"" + name +
                                        "\" is forbidden: unable to create new content in "
                                        "namespace " + ns + " because it is being terminated");
  }
  return Status::Ok();
}

void Api::Handle(http::Request req, std::shared_ptr<http::ResponseWriter> w) {
  std::string path = req.path;
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  auto send = [&](std::string body, std::string type = "application/json") {
    http::Response r;
    r.content_type = std::move(type);
    r.body = std::move(body);
    w->Send(std::move(r));
  };
  if (path == "/healthz" || path == "/livez" || path == "/readyz" ||
      path.rfind("/healthz/", 0) == 0 || path.rfind("/livez/", 0) == 0 ||
      path.rfind("/readyz/", 0) == 0) {
    return send("ok", "text/plain; charset=utf-8");
  }
  if (path == "/version") return send(VersionJson());
  if (path == "/api") return send(ApiVersionsJson(server_address_));
  if (path == "/apis") return send(ApiGroupListJson());
  if (path == "/openapi/v2") {
    // An empty protobuf document: kubectl's client-side validation then skips, and
    // apply falls back to its compiled-in types (../shared/notes/kubectl.md).
    return send("", "application/octet-stream");
  }
  if (path == "/openapi/v3") return send(R"({"paths":{}})");
  if (tokens_ != nullptr && path == "/.well-known/openid-configuration") {
    return send(tokens_->OpenIdConfiguration());
  }
  if (tokens_ != nullptr && path == "/openid/v1/jwks") {
    return send(tokens_->Jwks(), "application/jwk-set+json");
  }
  if (path == "/metrics") {
    static auto& objects = metrics::Registry::Default().AddGaugeVec(
        "apiserver_storage_objects", "Number of stored objects by resource.", {"resource"});
    static auto& revision = metrics::Registry::Default().AddGauge(
        "kubepp_storage_revision", "The current storage revision.");
    static auto& watches = metrics::Registry::Default().AddGauge(
        "apiserver_longrunning_requests", "Open watch streams.");
    for (const auto& r : AllResources()) {
      objects.WithLabelValues({r.QualifiedName()}).Set(storage_->Count(r.QualifiedName()));
    }
    revision.Set(static_cast<double>(storage_->CurrentRevision()));
    {
      std::lock_guard<std::mutex> l(watches_mu_);
      watches.Set(static_cast<double>(watches_.size()));
    }
    return send(metrics::Registry::Default().Render(), "text/plain; version=0.0.4");
  }
  if (path == "/api/v1") return send(ApiResourceListJson("", "v1"));
  if (path.rfind("/apis/", 0) == 0) {
    std::string rest = path.substr(6);
    size_t slash = rest.find('/');
    if (slash == std::string::npos) {
      std::string g = ApiGroupJson(rest);
      if (!g.empty()) return send(g);
    } else if (rest.find('/', slash + 1) == std::string::npos) {
      std::string l = ApiResourceListJson(rest.substr(0, slash), rest.substr(slash + 1));
      if (!l.empty()) return send(l);
    }
  }
  auto info = ParseResourcePath(path);
  if (!info.ok()) return SendStatus(w, info.status());
  if (!info->name.empty() && info->resource->namespaced && info->ns.empty()) {
    return SendStatus(w, NotFound("the server could not find the requested resource"));
  }
  auto metered = std::make_shared<MeteredWriter>(w, VerbOf(req, *info), info->resource->QualifiedName());
  HandleResource(req, *info, metered);
}

void Api::HandleResource(const http::Request& req, const RequestInfo& info, const Writer& w) {
  const std::string& m = req.method;
  const std::string& sub = info.subresource;
  bool collection = info.name.empty();
  if (info.resource->review) {
    if (m == "POST" && collection) {
      if (info.resource->group == "authentication.k8s.io") return AuthenticationReview(req, info, w);
      return Review(req, info, w);
    }
  } else if (sub == "token") {
    if (m == "POST") return TokenRequest(req, info, w);
  } else if (sub == "binding") {
    if (m == "POST") return Binding(req, info, w);
  } else if (sub == "eviction") {
    if (m == "POST") return Eviction(req, info, w);
  } else if (sub == "log") {
    if (m == "GET") return Log(req, info, w);
  } else if (sub == "scale") {
    if (m == "GET") return GetScale(req, info, w);
    if (m == "PUT") return Update(req, info, w);
    if (m == "PATCH") return Patch(req, info, w);
  } else if (sub == "status" || sub == "finalize") {
    if (m == "GET" && sub == "status") return Get(req, info, w);
    if (m == "PUT") return Update(req, info, w);
    if (m == "PATCH" && sub == "status") return Patch(req, info, w);
  } else if (collection) {
    if (m == "GET") {
      if (IsTrue(req.Query("watch"))) return Watch(req, info, w);
      return List(req, info, w);
    }
    if (m == "POST") return Create(req, info, w);
    if (m == "DELETE") return DeleteCollection(req, info, w);
  } else {
    if (m == "GET") return Get(req, info, w);
    if (m == "PUT") return Update(req, info, w);
    if (m == "PATCH") return Patch(req, info, w);
    if (m == "DELETE") return Delete(req, info, w);
  }
  SendStatus(w, Status(Code::kMethodNotAllowed, "the server does not allow this method on the requested resource"));
}

void Api::Get(const http::Request& req, const RequestInfo& info, const Writer& w) {
  auto obj = storage_->Get(info.resource->QualifiedName(), info.ns, info.name);
  if (obj == nullptr) {
    if (Status st = storage_->Unreadable(info.resource->QualifiedName(), info.ns, info.name);
        !st.ok()) {
      return SendStatus(w, st);
    }
    return SendStatus(w, NotFound(info.resource->QualifiedName() + " \"" + info.name +
                                  "\" not found")
                             .WithDetails(info.name, info.resource->group,
                                          info.resource->plural));
  }
  SendObject(req, w, 200, obj);
}

void Api::List(const http::Request& req, const RequestInfo& info, const Writer& w) {
  auto filter = ParseFilter(req, info);
  if (!filter.ok()) return SendStatus(w, filter.status());
  // As upstream, a list fails as a whole when one of its objects cannot be decrypted.
  if (Status st = storage_->Unreadable(info.resource->QualifiedName(), info.ns, ""); !st.ok()) {
    return SendStatus(w, st);
  }
  int64_t limit = 0;
  if (auto l = req.Query("limit"); !l.empty()) {
    limit = std::atoll(l.c_str());
    if (limit < 0) return SendStatus(w, BadRequest("limit must not be negative"));
  }
  std::pair<std::string, std::string> after;
  int64_t token_rv = 0;
  if (auto c = req.Query("continue"); !c.empty()) {
    if (auto st = DecodeContinue(c, &token_rv, &after); !st.ok()) return SendStatus(w, st);
  }
  // Later pages are served at the first page's revision, as upstream.
  int64_t exact = token_rv;
  if (req.Query("resourceVersionMatch") == "Exact") exact = std::atoll(req.Query("resourceVersion").c_str());
  Storage::ListResult all;
  if (exact > 0) {
    auto at = storage_->ListAtRevision(info.resource->QualifiedName(), info.ns, exact);
    if (!at.ok()) return SendStatus(w, at.status());
    all = std::move(*at);
  } else {
    all = storage_->List(info.resource->QualifiedName(), info.ns, after, 0, nullptr);
  }
  std::vector<ObjectPtr> items;
  bool more = false;
  for (auto& o : all.items) {
    if (exact > 0 && !after.second.empty() && std::make_pair(o->ns, o->name) <= after) continue;
    if (!filter->Matches(*o)) continue;
    if (limit > 0 && static_cast<int64_t>(items.size()) == limit) {
      more = true;
      break;
    }
    items.push_back(o);
  }
  int64_t rv = token_rv ? token_rv : all.rv;
  std::string cont = more ? EncodeContinue(rv, items.back()->ns, items.back()->name) : "";
  if (WantsTable(req)) {
    auto include = ParseIncludeObject(req.Query("includeObject"));
    if (!include.ok()) return SendStatus(w, include.status());
    std::vector<api::Document> docs;
    docs.reserve(items.size());
    std::vector<const api::Value*> ptrs;
    for (auto& o : items) {
      auto d = api::ParseJson(o->json);
      if (d.ok()) docs.push_back(std::move(*d));
    }
    for (auto& d : docs) ptrs.push_back(&d);
    return SendJson(req, w, 200,
                    BuildTable(*info.resource, ptrs, *include, std::to_string(rv), cont,
                               util::NowUnix()));
  }
  size_t total = 0;
  for (auto& o : items) total += o->json.size() + 1;
  std::string out;
  out.reserve(total + 200);
  out += R"({"kind":")" + info.resource->kind + R"(List","apiVersion":")" +
         info.resource->ApiVersion() + R"(","metadata":{"resourceVersion":")" +
         std::to_string(rv) + "\"";
  if (!cont.empty()) out += R"(,"continue":")" + cont + "\"";
  out += R"(},"items":[)";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    out += items[i]->json;
  }
  out += "]}";
  SendJson(req, w, 200, std::move(out));
}

void Api::Watch(const http::Request& req, const RequestInfo& info, const Writer& w) {
  auto filter = ParseFilter(req, info);
  if (!filter.ok()) return SendStatus(w, filter.status());
  auto ws = std::make_shared<WatchStream>();
  ws->writer = w;
  ws->resource = info.resource;
  ws->filter = std::move(*filter);
  ws->table = WantsTable(req);
  if (ws->table) {
    auto include = ParseIncludeObject(req.Query("includeObject"));
    if (!include.ok()) return SendStatus(w, include.status());
    ws->include = *include;
  }
  ws->bookmarks = IsTrue(req.Query("allowWatchBookmarks"));
  int64_t timeout = options_.min_request_timeout_seconds;
  if (auto t = req.Query("timeoutSeconds"); !t.empty()) timeout = std::atoll(t.c_str());
  auto now = std::chrono::steady_clock::now();
  ws->deadline = now + std::chrono::seconds(std::max<int64_t>(timeout, 0));
  ws->next_bookmark = now + std::chrono::seconds(options_.bookmark_interval_seconds);
  int64_t from = 0;
  if (auto rv = req.Query("resourceVersion"); !rv.empty()) {
    char* end = nullptr;
    from = std::strtoll(rv.c_str(), &end, 10);
    if (*end != '\0' || from < 0) {
      return SendStatus(w, BadRequest("invalid resourceVersion \"" + rv + "\""));
    }
  }
  // The initial ADDED events would silently miss objects that cannot be decrypted.
  if (from == 0) {
    if (Status st = storage_->Unreadable(info.resource->QualifiedName(), info.ns, ""); !st.ok()) {
      return SendStatus(w, st);
    }
  }
  w->StartStream(200, ws->table ? "application/json;as=Table;v=v1;g=meta.k8s.io"
                                : "application/json");
  ws->last_rv = from;
  auto handle = storage_->Watch(info.resource->QualifiedName(), from, Delivery::kAfterAck,
                                [ws](const EventPtr& ev) { ws->OnEvent(ev); });
  if (!handle.ok()) {
    // As upstream: the stream opens, carries one ERROR event with the Status, and ends.
    w->WriteChunk(R"({"type":"ERROR","object":)" + handle.status().ToJson() + "}\n");
    w->EndStream();
    return;
  }
  {
    std::lock_guard<std::mutex> l(ws->mu);
    if (ws->last_rv == 0) ws->last_rv = storage_->CurrentRevision();
  }
  std::lock_guard<std::mutex> l(watches_mu_);
  ws->handle = std::move(handle).value();
  watches_.push_back(ws);
  std::weak_ptr<WatchStream> weak = ws;
  w->OnClose([weak] {
    if (auto s = weak.lock()) s->done = true;
  });
}

// Once a second: ends expired or dead watches, sends due bookmarks.
void Api::WatchTicker() {
  std::unique_lock<std::mutex> l(watches_mu_);
  while (!stopping_) {
    ticker_cv_.wait_for(l, std::chrono::seconds(1));
    auto now = std::chrono::steady_clock::now();
    for (auto it = watches_.begin(); it != watches_.end();) {
      auto& ws = *it;
      if (ws->done || now >= ws->deadline || ws->writer->Closed()) {
        ws->handle.reset();  // unsubscribe first: no event after the end
        ws->done = true;
        ws->writer->EndStream();
        it = watches_.erase(it);
        continue;
      }
      if (ws->bookmarks && now >= ws->next_bookmark) {
        ws->next_bookmark = now + std::chrono::seconds(options_.bookmark_interval_seconds);
        ws->Bookmark();
      }
      ++it;
    }
  }
}

}  // namespace kubepp::apiserver
