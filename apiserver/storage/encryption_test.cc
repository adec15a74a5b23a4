#include "apiserver/storage/encryption.h"

#include <sqlite3.h>

#include <catch2/catch.hpp>

#include "apiserver/storage/storage.h"
#include "common/testing/temp_dir.h"

namespace kubepp::apiserver {
namespace {

constexpr const char* kKey1 = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";  // 32 bytes
constexpr const char* kKey2 = "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=";  // 32 bytes
constexpr const char* kKey16 = "MDEyMzQ1Njc4OWFiY2RlZg==";
constexpr const char* kKey24 = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3";

const std::string kJson = R"({"kind":"Secret","data":{"password":"aHVudGVyMg=="}})";
const std::string kKey = "/registry/secrets/default/s1";

std::string Config(const std::string& providers, const std::string& resources = "[secrets]") {
  return "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\n"
         "resources:\n- resources: " + resources + "\n  providers:\n" + providers;
}
std::string Gcm(const std::string& name, const std::string& secret) {
  return "  - aesgcm:\n      keys:\n      - name: " + name + "\n        secret: " + secret + "\n";
}
std::string Cbc(const std::string& name, const std::string& secret) {
  return "  - aescbc:\n      keys:\n      - name: " + name + "\n        secret: " + secret + "\n";
}
const std::string kIdentity = "  - identity: {}\n";

std::shared_ptr<const Encryption> Must(const std::string& text) {
  auto e = Encryption::Parse(text);
  INFO(text);
  REQUIRE(e.ok());
  return *e;
}

std::string ParseError(const std::string& text) {
  auto e = Encryption::Parse(text);
  INFO(text);
  REQUIRE_FALSE(e.ok());
  CHECK(e.status().code() == Code::kBadRequest);
  CHECK(e.status().message().find('\n') == std::string::npos);
  return e.status().message();
}

bool Contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// Whether `e` writes `resource` encrypted.
bool Encrypts(const Encryption& e, const std::string& resource) {
  return e.Encode(resource, "k", "{}")->rfind("k8s:enc:", 0) == 0;
}

TEST_CASE("encryption: parses upstream's EncryptionConfiguration", "[encryption]") {
  auto e = Must(Config(Gcm("key1", kKey1) + Cbc("old", kKey16) + kIdentity,
                       "[secrets, configmaps]"));
  REQUIRE(e->rules().size() == 1);
  CHECK(e->rules()[0].providers.size() == 3);
  CHECK(e->rules()[0].providers[0].keys[0].secret == "0123456789abcdef0123456789abcdef");
  CHECK(Encrypts(*e, "secrets"));
  CHECK(Encrypts(*e, "configmaps"));
  CHECK_FALSE(Encrypts(*e, "pods"));
  CHECK(e->Describe() == "secrets,configmaps: aesgcm(key1), aescbc(old), identity");
  // JSON is YAML too.
  auto j = Encryption::Parse(
      R"({"apiVersion":"apiserver.config.k8s.io/v1","kind":"EncryptionConfiguration",)"
      R"("resources":[{"resources":["*.*"],"providers":[{"identity":{}}]}]})");
  REQUIRE(j.ok());
  CHECK_FALSE(Encrypts(**j, "secrets"));
}

TEST_CASE("encryption: bad configurations are one-line errors naming the field",
          "[encryption]") {
  CHECK(Contains(ParseError("kind: Foo\napiVersion: apiserver.config.k8s.io/v1\n"),
                 "kind must be EncryptionConfiguration"));
  CHECK(Contains(ParseError("kind: EncryptionConfiguration\napiVersion: v1\n"), "apiVersion"));
  CHECK(Contains(ParseError("{not yaml: ["), "cannot parse"));
  CHECK(Contains(ParseError("kind: EncryptionConfiguration\n"
                            "apiVersion: apiserver.config.k8s.io/v1\nresources: []\n"),
                 "resources: at least one"));
  CHECK(Contains(ParseError("kind: EncryptionConfiguration\n"
                            "apiVersion: apiserver.config.k8s.io/v1\nresource: []\n"),
                 "resource: unknown field"));
  CHECK(Contains(ParseError(Config("  []\n")), "resources[0].providers: at least one"));
  CHECK(Contains(ParseError(Config(kIdentity, "[]")), "resources[0].resources: at least one"));
  CHECK(Contains(ParseError(Config("  - aes-gcm: {}\n")),
                 "resources[0].providers[0].aes-gcm: unknown provider"));
  CHECK(Contains(ParseError(Config("  - {}\n")), "does not contain any of the expected"));
  CHECK(Contains(ParseError(Config("  - identity: {}\n    aesgcm: {keys: []}\n")),
                 "more than one provider"));
  CHECK(Contains(ParseError(Config("  - secretbox: {keys: [{name: k, secret: " +
                                   std::string(kKey1) + "}]}\n")),
                 "secretbox provider is not supported"));
  CHECK(Contains(ParseError(Config("  - kms: {name: x, endpoint: unix:///kms.sock}\n")),
                 "kms provider is not supported"));
  CHECK(Contains(ParseError(Config("  - aesgcm: {keys: []}\n")),
                 "resources[0].providers[0].aesgcm.keys: at least one"));
  std::string short_key = ParseError(Config(Gcm("k", "c2hvcnQga2V5")));
  CHECK(Contains(short_key, "resources[0].providers[0].aesgcm.keys[0].secret"));
  CHECK(Contains(short_key, "got 9, expected one of [16 24 32]"));
  CHECK_FALSE(Contains(short_key, "c2hvcnQga2V5"));  // never the key material
  CHECK(Contains(ParseError(Config(Gcm("k", "not base64!"))), "must be base64 encoded"));
  CHECK(Contains(ParseError(Config(Gcm("k", "MDEyMzQ1Njc4OWFiY2RlZg"))),  // padding missing
                 "must be base64 encoded"));
  CHECK(Contains(ParseError(Config(Gcm("\"\"", kKey1))), "keys[0].name: name is a mandatory"));
  CHECK(Contains(ParseError(Config(Gcm("a:b", kKey1))), "must not contain ':'"));
  CHECK(Contains(ParseError(Config("  - aesgcm: {keys: [{name: k, secret: " + std::string(kKey1) +
                                   "}, {name: k, secret: " + std::string(kKey2) + "}]}\n")),
                 "duplicate key name"));
  CHECK(Contains(ParseError(Config(Gcm("k", kKey1) + Gcm("k", kKey2))), "already used"));
  CHECK(Contains(ParseError(Config("  - aesgcm: {keys: [{name: k, secret: " + std::string(kKey1) +
                                   ", extra: 1}]}\n")),
                 "keys[0].extra: unknown field"));
  CHECK(Contains(ParseError(Config(kIdentity, "[Secrets]")), "capital letters"));
  CHECK(Contains(ParseError(Config(kIdentity, "['*']")), "use '*.'"));
  CHECK(Contains(ParseError(Config(kIdentity, "['secrets.*']")), "across groups"));
  CHECK(Contains(ParseError(Config(kIdentity, "[secrets, secrets]")), "multiple times"));
  CHECK(Contains(ParseError(Config(kIdentity, "[secrets, '*.']")), "overlapping"));
  CHECK(Contains(ParseError(Config(kIdentity, "['*.*', '*.apps']")), "overlapping"));
  // A missing file names the flag and the file.
  auto missing = Encryption::Load("/nonexistent/enc.yaml");
  REQUIRE_FALSE(missing.ok());
  CHECK(Contains(missing.status().message(), "--encryption-provider-config /nonexistent/enc.yaml"));
}

TEST_CASE("encryption: each provider round-trips in upstream's stored format", "[encryption]") {
  for (const char* secret : {kKey16, kKey24, kKey1}) {
    auto gcm = Must(Config(Gcm("key1", secret)));
    auto stored = gcm->Encode("secrets", kKey, kJson);
    REQUIRE(stored.ok());
    CHECK(stored->rfind("k8s:enc:aesgcm:v1:key1:", 0) == 0);
    CHECK(stored->size() == std::string("k8s:enc:aesgcm:v1:key1:").size() + 12 + kJson.size() + 16);
    CHECK_FALSE(Contains(*stored, "aHVudGVyMg"));
    // A random nonce: the same value encrypts differently each time.
    CHECK(*gcm->Encode("secrets", kKey, kJson) != *stored);
    auto back = gcm->Decode("secrets", kKey, *stored);
    REQUIRE(back.ok());
    CHECK(back->json == kJson);
    CHECK_FALSE(back->stale);

    auto cbc = Must(Config(Cbc("key1", secret)));
    stored = cbc->Encode("secrets", kKey, kJson);
    REQUIRE(stored.ok());
    CHECK(stored->rfind("k8s:enc:aescbc:v1:key1:", 0) == 0);
    size_t body = stored->size() - std::string("k8s:enc:aescbc:v1:key1:").size();
    CHECK(body == 16 + (kJson.size() / 16 + 1) * 16);
    back = cbc->Decode("secrets", kKey, *stored);
    REQUIRE(back.ok());
    CHECK(back->json == kJson);
  }
  auto id = Must(Config(kIdentity));
  CHECK(*id->Encode("secrets", kKey, kJson) == kJson);
  CHECK(id->Decode("secrets", kKey, kJson)->json == kJson);
  // Empty values survive too.
  auto gcm = Must(Config(Gcm("key1", kKey1)));
  CHECK(gcm->Decode("secrets", kKey, *gcm->Encode("secrets", kKey, ""))->json.empty());
  auto cbc = Must(Config(Cbc("key1", kKey1)));
  CHECK(cbc->Decode("secrets", kKey, *cbc->Encode("secrets", kKey, ""))->json.empty());
}

TEST_CASE("encryption: resources match as upstream, first list wins", "[encryption]") {
  auto e = Must("apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\n"
                "resources:\n"
                "- resources: [events]\n  providers:\n" + kIdentity +
                "- resources: ['*.apps']\n  providers:\n" + Gcm("apps", kKey1) +
                "- resources: ['*.']\n  providers:\n" + Cbc("core", kKey2));
  CHECK_FALSE(Encrypts(*e, "events"));
  CHECK(e->Encode("deployments.apps", "k", "{}")->rfind("k8s:enc:aesgcm:v1:apps:", 0) == 0);
  CHECK(e->Encode("pods", "k", "{}")->rfind("k8s:enc:aescbc:v1:core:", 0) == 0);
  CHECK(*e->Encode("jobs.batch", "k", "{}") == "{}");
  auto all = Must(Config(Gcm("k", kKey1), "['*.*']"));
  CHECK(Encrypts(*all, "pods"));
  CHECK(Encrypts(*all, "widgets.example.com"));
}

TEST_CASE("encryption: rotation: older keys and providers decrypt, and are stale",
          "[encryption]") {
  auto v1 = Must(Config(Gcm("key1", kKey1) + kIdentity));
  std::string old_value = *v1->Encode("secrets", kKey, kJson);
  auto cbc = Must(Config(Cbc("cbc", kKey2)));
  std::string cbc_value = *cbc->Encode("secrets", kKey, kJson);

  // key2 added first, key1 second (upstream's rotation step), cbc kept for reads.
  auto v2 = Must(Config("  - aesgcm:\n      keys:\n      - name: key2\n        secret: " +
                        std::string(kKey2) + "\n      - name: key1\n        secret: " + kKey1 +
                        "\n" + Cbc("cbc", kKey2) + kIdentity));
  auto d = v2->Decode("secrets", kKey, old_value);
  REQUIRE(d.ok());
  CHECK(d->json == kJson);
  CHECK(d->stale);
  d = v2->Decode("secrets", kKey, cbc_value);
  REQUIRE(d.ok());
  CHECK(d->stale);
  d = v2->Decode("secrets", kKey, kJson);  // plaintext from before encryption
  REQUIRE(d.ok());
  CHECK(d->stale);
  d = v2->Decode("secrets", kKey, *v2->Encode("secrets", kKey, kJson));
  REQUIRE(d.ok());
  CHECK_FALSE(d->stale);

  // Decrypting a cluster: identity first, the key second; encrypted values are stale.
  auto off = Must(Config(kIdentity + Gcm("key1", kKey1)));
  d = off->Decode("secrets", kKey, old_value);
  REQUIRE(d.ok());
  CHECK(d->stale);
  CHECK(*off->Encode("secrets", kKey, kJson) == kJson);
}

TEST_CASE("encryption: unknown keys, tampering and wrong contexts fail cleanly",
          "[encryption]") {
  auto v1 = Must(Config(Gcm("key1", kKey1)));
  std::string value = *v1->Encode("secrets", kKey, kJson);

  auto other = Must(Config(Gcm("key2", kKey2)));
  auto d = other->Decode("secrets", kKey, value);
  REQUIRE_FALSE(d.ok());
  CHECK(d.status().code() == Code::kInternal);
  CHECK(Contains(d.status().message(), "no configured provider can decrypt"));
  CHECK(Contains(d.status().message(), "aesgcm key \"key1\""));

  // Same name, different key material: authentication fails.
  auto wrong = Must(Config(Gcm("key1", kKey2)));
  d = wrong->Decode("secrets", kKey, value);
  REQUIRE_FALSE(d.ok());
  CHECK(Contains(d.status().message(), "authentication failed"));

  // Every single flipped byte after the prefix is caught.
  size_t prefix = std::string("k8s:enc:aesgcm:v1:key1:").size();
  for (size_t i = prefix; i < value.size(); ++i) {
    std::string t = value;
    t[i] ^= 0x01;
    CHECK_FALSE(v1->Decode("secrets", kKey, t).ok());
  }
  CHECK_FALSE(v1->Decode("secrets", kKey, value.substr(0, value.size() - 1)).ok());
  CHECK_FALSE(v1->Decode("secrets", kKey, value.substr(0, prefix + 5)).ok());
  // A value copied to another object's key does not decrypt (the key is authenticated).
  CHECK_FALSE(v1->Decode("secrets", "/registry/secrets/default/s2", value).ok());

  // aescbc: a bad length or padding fails; a flipped last block byte breaks the padding.
  auto cbc = Must(Config(Cbc("key1", kKey1)));
  std::string cv = *cbc->Encode("secrets", kKey, kJson);
  CHECK_FALSE(cbc->Decode("secrets", kKey, cv.substr(0, cv.size() - 3)).ok());
  std::string t = cv;
  t[t.size() - 17] ^= 0x7f;  // the IV/previous block of the last block's padding byte
  auto td = cbc->Decode("secrets", kKey, t);
  CHECK((!td.ok() || td->json != kJson));

  // Plaintext where no identity provider is listed, and encrypted values where no rule
  // names the resource, are refused rather than misread.
  d = v1->Decode("secrets", kKey, kJson);
  REQUIRE_FALSE(d.ok());
  CHECK(Contains(d.status().message(), "no identity provider"));
  d = Encryption::Identity()->Decode("secrets", kKey, value);
  REQUIRE_FALSE(d.ok());
  CHECK(Contains(d.status().message(), "no encryption provider is configured for secrets"));
  d = v1->Decode("secrets", kKey, "k8s:enc:secretbox:v1:k\x01:xyz");
  REQUIRE_FALSE(d.ok());
  CHECK(Contains(d.status().message(), "secretbox key \"k?\""));
}

// --- The SQLite storage with encryption --------------------------------------------------

using ::kubepp::testing::TempDir;

std::string Db(const TempDir& tmp) { return tmp.Join("db.sqlite"); }

std::unique_ptr<Storage> Open(const std::string& path, std::shared_ptr<const Encryption> e) {
  SqliteOptions o;
  o.path = path;
  o.encryption = std::move(e);
  auto s = OpenSqliteStorage(o);
  REQUIRE(s.ok());
  return std::move(s).value();
}

Write Put(const std::string& resource, const std::string& name, const std::string& value,
          Write::Kind kind = Write::Kind::kCreate) {
  Write w;
  w.kind = kind;
  w.resource = resource;
  w.ns = "default";
  w.name = name;
  auto doc = api::ParseJson(R"({"metadata":{"name":")" + name +
                            R"(","namespace":"default"},"data":{"v":")" + value + "\"}}");
  w.object = std::move(*doc);
  return w;
}

// Every stored value of `resource`/`name` in `table` ("objects" or "log").
std::vector<std::string> RawValues(const std::string& db, const std::string& table,
                                   const std::string& name) {
  sqlite3* h = nullptr;
  REQUIRE(sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  std::string sql = "SELECT value FROM " + table + " WHERE name=?";
  REQUIRE(sqlite3_prepare_v2(h, sql.c_str(), -1, &s, nullptr) == SQLITE_OK);
  sqlite3_bind_text(s, 1, name.c_str(), -1, SQLITE_TRANSIENT);
  std::vector<std::string> out;
  while (sqlite3_step(s) == SQLITE_ROW) {
    out.emplace_back(static_cast<const char*>(sqlite3_column_blob(s, 0)),
                     sqlite3_column_bytes(s, 0));
  }
  sqlite3_finalize(s);
  sqlite3_close(h);
  return out;
}

TEST_CASE("encryption: storage encrypts objects and log, rotates in place, refuses "
          "undecryptable values", "[encryption][storage]") {
  TempDir tmp;
  std::string db = Db(tmp);
  auto v1 = Must(Config(Gcm("key1", kKey1) + kIdentity));
  int64_t secret_rv = 0;
  {
    auto s = Open(db, v1);
    auto plain = s->SubmitAndWait(Put("configmaps", "cm", "visible"));
    REQUIRE(plain.ok());
    auto sec = s->SubmitAndWait(Put("secrets", "s1", "hunter2"));
    REQUIRE(sec.ok());
    secret_rv = (*sec)->rv;
    // The cache holds plaintext.
    CHECK(Contains(s->Get("secrets", "default", "s1")->json, "hunter2"));
    CHECK(s->Get("secrets", "default", "s1")->rv == secret_rv);
  }
  for (const char* table : {"objects", "log"}) {
    auto values = RawValues(db, table, "s1");
    REQUIRE(values.size() == 1);
    CHECK(values[0].rfind("k8s:enc:aesgcm:v1:key1:", 0) == 0);
    CHECK_FALSE(Contains(values[0], "hunter2"));
    CHECK(Contains(RawValues(db, table, "cm")[0], "visible"));
  }

  // Rotation: key2 first, key1 second. Opening rewrites in place, revisions kept.
  auto v2 = Must(Config("  - aesgcm:\n      keys:\n      - name: key2\n        secret: " +
                        std::string(kKey2) + "\n      - name: key1\n        secret: " + kKey1 +
                        "\n" + kIdentity));
  {
    auto s = Open(db, v2);
    auto got = s->Get("secrets", "default", "s1");
    REQUIRE(got != nullptr);
    CHECK(got->rv == secret_rv);
    CHECK(Contains(got->json, "hunter2"));
    CHECK(s->CurrentRevision() == 2);
  }
  for (const char* table : {"objects", "log"}) {
    CHECK(RawValues(db, table, "s1")[0].rfind("k8s:enc:aesgcm:v1:key2:", 0) == 0);
  }
  // key1 removed: still readable.
  auto v3 = Must(Config(Gcm("key2", kKey2)));
  {
    auto s = Open(db, v3);
    REQUIRE(s->Get("secrets", "default", "s1") != nullptr);
    CHECK(s->Unreadable("secrets", "", "").ok());
  }

  // Only a wrong key: the secret is unreadable, everything else is fine.
  auto bad = Must(Config(Gcm("key9", kKey1)));
  {
    auto s = Open(db, bad);
    CHECK(s->Get("secrets", "default", "s1") == nullptr);
    Status st = s->Unreadable("secrets", "default", "s1");
    CHECK(st.code() == Code::kInternal);
    CHECK(Contains(st.message(), "unable to decrypt secrets \"default/s1\""));
    CHECK(Contains(st.message(), "aesgcm key \"key2\""));
    CHECK(s->Unreadable("secrets", "", "").code() == Code::kInternal);
    CHECK(s->Unreadable("secrets", "default", "").code() == Code::kInternal);
    CHECK(s->Unreadable("secrets", "other", "").ok());
    CHECK(s->Unreadable("secrets", "default", "s2").ok());
    CHECK(s->Unreadable("configmaps", "", "").ok());
    REQUIRE(s->Get("configmaps", "default", "cm") != nullptr);
    // Writes to it fail rather than replace what cannot be read.
    CHECK(s->SubmitAndWait(Put("secrets", "s1", "x")).status().code() == Code::kInternal);
    Write del;
    del.kind = Write::Kind::kDelete;
    del.resource = "secrets";
    del.ns = "default";
    del.name = "s1";
    CHECK(s->SubmitAndWait(std::move(del)).status().code() == Code::kInternal);
    // Other secrets can be written (with the configured key) and watched.
    REQUIRE(s->SubmitAndWait(Put("secrets", "s2", "y")).ok());
  }
  // The undecryptable value was left alone: the right key reads it again.
  CHECK(RawValues(db, "objects", "s1")[0].rfind("k8s:enc:aesgcm:v1:key2:", 0) == 0);
  {
    auto s = Open(db, v3);
    REQUIRE(s->Get("secrets", "default", "s1") != nullptr);
  }

  // Decrypting: identity first rewrites values as plain JSON.
  auto off = Must(Config(kIdentity + Gcm("key2", kKey2)));
  { auto s = Open(db, off); }
  CHECK(Contains(RawValues(db, "objects", "s1")[0], "hunter2"));
  CHECK(Contains(RawValues(db, "log", "s1")[0], "hunter2"));
}

TEST_CASE("encryption: tampered aescbc values in storage are refused", "[encryption][storage]") {
  TempDir tmp;
  std::string db = Db(tmp);
  auto cbc = Must(Config(Cbc("key1", kKey1)));
  { REQUIRE(Open(db, cbc)->SubmitAndWait(Put("secrets", "s1", "hunter2")).ok()); }
  // Flip a byte of the first ciphertext block: CBC has no MAC, but the JSON that comes out
  // is garbage, and the padding of the last block still checks.
  sqlite3* h = nullptr;
  REQUIRE(sqlite3_open(db.c_str(), &h) == SQLITE_OK);
  std::string v = RawValues(db, "objects", "s1")[0];
  v[std::string("k8s:enc:aescbc:v1:key1:").size() + 16 + 3] ^= 0x55;
  sqlite3_stmt* s = nullptr;
  REQUIRE(sqlite3_prepare_v2(h, "UPDATE objects SET value=? WHERE name='s1'", -1, &s, nullptr) ==
          SQLITE_OK);
  sqlite3_bind_blob(s, 1, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  REQUIRE(sqlite3_step(s) == SQLITE_DONE);
  sqlite3_finalize(s);
  sqlite3_close(h);
  auto st = Open(db, cbc);
  CHECK(st->Get("secrets", "default", "s1") == nullptr);
  CHECK(st->Unreadable("secrets", "default", "s1").code() == Code::kInternal);
}

}  // namespace
}  // namespace kubepp::apiserver
