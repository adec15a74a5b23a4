#include "kubelet/volumes.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <algorithm>
#include <filesystem>

#include "common/util/file.h"
#include "kubelet/testing/test_util.h"

namespace kubepp::kubelet {
namespace {

namespace fs = std::filesystem;
using testing::Json;

constexpr const char* kPod = R"json({
  "metadata":{"name":"web","namespace":"shop","uid":"u-1",
              "labels":{"app":"web","tier":"front"},"annotations":{"note":"say \"hi\"\n\tbye","z":"é"}},
  "spec":{"containers":[{"name":"app","image":"busybox",
                         "resources":{"limits":{"cpu":"500m","memory":"64Mi"},"requests":{"cpu":"250m"}}}]}})json";

// A ConfigMap "cfg" (data + binaryData) and a Secret "sec" (data base64).
ObjectGetter Objects() {
  return [](bool secret, const std::string& name) -> Result<api::Document> {
    if (!secret && name == "cfg") {
      return Json(R"({"data":{"color":"blue","size":"L"},"binaryData":{"bin":"AAEC/w=="}})");
    }
    if (secret && name == "sec") return Json(R"({"data":{"password":"aHVudGVyMg==","user":"YWRtaW4="}})");
    return NotFound("not found");
  };
}

Result<Payload> PayloadOf(const std::string& volume_json, std::vector<std::string>* notes = nullptr) {
  auto pod = Json(kPod);
  return VolumePayload(pod, Json(volume_json), Objects(), notes);
}

TEST_CASE("volumes: configMap and secret, all keys or items, modes, optional") {
  auto p = PayloadOf(R"({"name":"v","configMap":{"name":"cfg"}})");
  REQUIRE(p.ok());
  CHECK(*p == Payload{{"bin", {std::string("\0\1\2\xff", 4), 0644}},
                      {"color", {"blue", 0644}},
                      {"size", {"L", 0644}}});

  p = PayloadOf(R"({"name":"v","configMap":{"name":"cfg","defaultMode":256,
                   "items":[{"key":"color","path":"sub/dir/c.txt"},{"key":"size","path":"s","mode":511}]}})");
  REQUIRE(p.ok());
  CHECK(*p == Payload{{"sub/dir/c.txt", {"blue", 0400}}, {"s", {"L", 0777}}});

  p = PayloadOf(R"({"name":"v","secret":{"secretName":"sec"}})");
  REQUIRE(p.ok());
  CHECK(*p == Payload{{"password", {"hunter2", 0644}}, {"user", {"admin", 0644}}});

  // Missing objects and keys.
  auto missing = PayloadOf(R"({"name":"v","configMap":{"name":"nope"}})");
  CHECK(missing.status().code() == Code::kNotFound);
  CHECK(missing.status().message() == "configmap \"nope\" not found");
  CHECK(PayloadOf(R"({"name":"v","secret":{"secretName":"nope"}})").status().message() ==
        "secret \"nope\" not found");
  p = PayloadOf(R"({"name":"v","secret":{"secretName":"nope","optional":true}})");
  REQUIRE(p.ok());
  CHECK(p->empty());
  CHECK(PayloadOf(R"({"name":"v","configMap":{"name":"cfg","items":[{"key":"x","path":"x"}]}})")
            .status().message() == "configmap references non-existent config key: x");
  CHECK(PayloadOf(R"({"name":"v","secret":{"secretName":"sec","items":[{"key":"x","path":"x"}]}})")
            .status().message() == "secret references non-existent secret key: x");
  p = PayloadOf(R"({"name":"v","configMap":{"name":"cfg","optional":true,
                   "items":[{"key":"x","path":"x"},{"key":"size","path":"s"}]}})");
  REQUIRE(p.ok());
  CHECK(*p == Payload{{"s", {"L", 0644}}});

  // Bad input is an error, not a crash.
  CHECK_FALSE(PayloadOf(R"({"name":"v","configMap":{"name":"cfg","defaultMode":4096}})").ok());
  CHECK_FALSE(PayloadOf(R"({"name":"v","configMap":{"name":"cfg","items":[{"key":"color","path":"../x"}]}})").ok());
  CHECK_FALSE(PayloadOf(R"({"name":"v","configMap":{"name":"cfg","items":[{"key":"color","path":"/abs"}]}})").ok());
  CHECK_FALSE(PayloadOf(R"({"name":"v","configMap":{"name":"cfg","items":[{"key":"color","path":"..data"}]}})").ok());
  CHECK_FALSE(PayloadOf(R"({"name":"v","emptyDir":{}})").ok());
}

TEST_CASE("volumes: downwardAPI as upstream") {
  auto p = PayloadOf(R"({"name":"v","downwardAPI":{"items":[
      {"path":"name","fieldRef":{"fieldPath":"metadata.name"}},
      {"path":"ns","fieldRef":{"fieldPath":"metadata.namespace"}},
      {"path":"uid","fieldRef":{"fieldPath":"metadata.uid"}},
      {"path":"labels","fieldRef":{"fieldPath":"metadata.labels"}},
      {"path":"annotations","fieldRef":{"fieldPath":"metadata.annotations"},"mode":384},
      {"path":"app","fieldRef":{"fieldPath":"metadata.labels['app']"}},
      {"path":"cpu","resourceFieldRef":{"containerName":"app","resource":"limits.cpu","divisor":"1m"}},
      {"path":"mem","resourceFieldRef":{"containerName":"app","resource":"limits.memory","divisor":"1Mi"}}]}})");
  REQUIRE(p.ok());
  CHECK((*p)["name"] == FileProjection{"web", 0644});
  CHECK((*p)["ns"].data == "shop");
  CHECK((*p)["uid"].data == "u-1");
  CHECK((*p)["labels"].data == "app=\"web\"\ntier=\"front\"");
  CHECK((*p)["annotations"] == FileProjection{"note=\"say \\\"hi\\\"\\n\\tbye\"\nz=\"é\"", 0600});
  CHECK((*p)["app"].data == "web");
  CHECK((*p)["cpu"].data == "500");
  CHECK((*p)["mem"].data == "64");

  CHECK_FALSE(PayloadOf(R"({"name":"v","downwardAPI":{"items":[{"path":"x","fieldRef":{"fieldPath":"spec.nodeName"}}]}})").ok());
  CHECK_FALSE(PayloadOf(R"({"name":"v","downwardAPI":{"items":[{"path":"x","resourceFieldRef":{"containerName":"nope","resource":"limits.cpu"}}]}})").ok());
  CHECK(FormatMap({{"b", "\x01\xff"}, {"a", ""}}) == "a=\"\"\nb=\"\\x01\\xff\"");
}

TEST_CASE("volumes: projected sources, the service account token among them") {
  std::vector<std::string> notes;
  std::string asked;
  TokenGetter token = [&](const api::Value& pod, const std::string& audience, int64_t exp) -> Result<std::string> {
    asked = api::GetString(pod, "metadata.name") + "|" + audience + "|" + std::to_string(exp);
    return std::string("jwt");
  };
  const std::string volume = R"({"name":"v","projected":{"defaultMode":288,"sources":[
      {"configMap":{"name":"cfg","items":[{"key":"color","path":"color"}]}},
      {"secret":{"name":"sec","items":[{"key":"user","path":"creds/user","mode":256}]}},
      {"downwardAPI":{"items":[{"path":"labels","fieldRef":{"fieldPath":"metadata.labels"}}]}},
      {"serviceAccountToken":{"path":"token","audience":"vault"}},
      {"clusterTrustBundle":{"path":"b"}},
      {"configMap":{"name":"missing","optional":true}}]}})";
  auto pod = Json(kPod);
  auto p = VolumePayload(pod, Json(volume), Objects(), &notes, token);
  REQUIRE(p.ok());
  CHECK(*p == Payload{{"color", {"blue", 0440}},
                      {"creds/user", {"admin", 0400}},
                      {"labels", {"app=\"web\"\ntier=\"front\"", 0440}},
                      {"token", {"jwt", 0440}}});
  CHECK(asked == "web|vault|3600");
  REQUIRE(notes.size() == 1);
  CHECK(notes[0].find("clusterTrustBundle") != std::string::npos);
  // A token that cannot be had fails the volume, with the reason.
  TokenGetter failing = [](const api::Value&, const std::string&, int64_t) -> Result<std::string> {
    return NotFound("failed to fetch token: serviceaccounts \"default\" not found");
  };
  auto failed = VolumePayload(pod, Json(volume), Objects(), nullptr, failing);
  CHECK(failed.status().message() == "failed to fetch token: serviceaccounts \"default\" not found");
  CHECK_FALSE(VolumePayload(pod, Json(volume), Objects(), nullptr).ok());
  CHECK(PayloadOf(R"({"name":"v","projected":{"sources":[{"secret":{"name":"missing"}}]}})").status().message() ==
        "secret \"missing\" not found");
}

std::string Read(const std::string& path) {
  auto r = util::ReadFile(path);
  return r.ok() ? *r : "<missing>";
}

uint32_t ModeOf(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? st.st_mode & 07777 : 0xffff;
}

TEST_CASE("atomic writer: ..data swap, user-visible symlinks, removal, no-op rewrite") {
  testing::TempDir dir;
  std::string target = dir.path() + "/vol";
  auto w = WriteAtomically(target, {{"a", {"1", 0644}}, {"d/b", {"2", 0600}}});
  REQUIRE(w.ok());
  CHECK(*w);
  CHECK(HasAtomicData(target));
  CHECK(fs::read_symlink(target + "/a") == "..data/a");
  CHECK(fs::read_symlink(target + "/d") == "..data/d");
  std::string ts1 = fs::read_symlink(target + "/..data").string();
  CHECK(ts1.rfind("..20", 0) == 0);
  CHECK(Read(target + "/a") == "1");
  CHECK(Read(target + "/d/b") == "2");
  CHECK(ModeOf(target + "/d/b") == 0600);
  CHECK(ModeOf(target + "/" + ts1) == 0755);

  // Same content: nothing is written.
  w = WriteAtomically(target, {{"a", {"1", 0644}}, {"d/b", {"2", 0600}}});
  REQUIRE(w.ok());
  CHECK_FALSE(*w);
  CHECK(fs::read_symlink(target + "/..data").string() == ts1);

  // A mode change alone is an update.
  w = WriteAtomically(target, {{"a", {"1", 0400}}, {"d/b", {"2", 0600}}});
  REQUIRE(w.ok());
  CHECK(*w);
  CHECK(ModeOf(target + "/a") == 0400);

  // New content and a removed key: a new timestamped directory, the old one gone.
  std::string ts2 = fs::read_symlink(target + "/..data").string();
  w = WriteAtomically(target, {{"a", {"new", 0644}}, {"c", {"3", 0644}}});
  REQUIRE(w.ok());
  CHECK(*w);
  std::string ts3 = fs::read_symlink(target + "/..data").string();
  CHECK(ts3 != ts2);
  CHECK_FALSE(fs::exists(target + "/" + ts2));
  CHECK(Read(target + "/a") == "new");
  CHECK(Read(target + "/c") == "3");
  CHECK_FALSE(fs::exists(fs::symlink_status(target + "/d")));
  std::vector<std::string> names;
  for (auto& e : fs::directory_iterator(target)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  CHECK(names == std::vector<std::string>{ts3, "..data", "a", "c"});  // "..2" < "..d"

  // An empty payload empties the volume; invalid paths change nothing.
  CHECK_FALSE(WriteAtomically(target, {{"../escape", {"x", 0644}}}).ok());
  CHECK_FALSE(WriteAtomically(target, {{"..data_tmp", {"x", 0644}}}).ok());
  CHECK(Read(target + "/a") == "new");
  w = WriteAtomically(target, {});
  REQUIRE(w.ok());
  CHECK_FALSE(fs::exists(fs::symlink_status(target + "/a")));
  CHECK(HasAtomicData(target));
}

TEST_CASE("volumes: SetUpApiVolumes blocks on a volume never set up, keeps old content after") {
  testing::TempDir dir;
  auto pod = Json(kPod);
  auto& a = pod.GetAllocator();
  auto volumes = Json(R"([{"name":"cfg","configMap":{"name":"cfg"}},
      {"name":"scratch","emptyDir":{}},
      {"name":"info","downwardAPI":{"items":[{"path":"labels","fieldRef":{"fieldPath":"metadata.labels"}}]}}])");
  api::SetValue(pod, "spec.volumes", api::Copy(volumes, a), a);
  CHECK(HasApiVolumes(pod));
  PodPaths paths = PathsOf(dir.path(), "u-1");
  bool present = false;
  ObjectGetter get = [&](bool secret, const std::string& name) -> Result<api::Document> {
    if (!present) return NotFound("configmaps \"cfg\" not found");
    return Objects()(secret, name);
  };
  std::vector<std::string> notes;
  Status st = SetUpApiVolumes(pod, paths, get, &notes);
  CHECK(st.code() == Code::kNotFound);
  CHECK(st.message() == "MountVolume.SetUp failed for volume \"cfg\" : configmap \"cfg\" not found");
  // The other volume is written all the same.
  CHECK(Read(paths.VolumeDir("kubernetes.io~downward-api", "info") + "/labels") == "app=\"web\"\ntier=\"front\"");

  present = true;
  REQUIRE(SetUpApiVolumes(pod, paths, get, &notes).ok());
  CHECK(notes.empty());
  std::string cfg = paths.VolumeDir("kubernetes.io~configmap", "cfg");
  CHECK(Read(cfg + "/color") == "blue");

  // Deleted later: the files stay, with a note.
  present = false;
  REQUIRE(SetUpApiVolumes(pod, paths, get, &notes).ok());
  REQUIRE(notes.size() == 1);
  CHECK(notes[0].find("keeps its previous content") != std::string::npos);
  CHECK(Read(cfg + "/color") == "blue");

  // Labels change: the downwardAPI file follows.
  api::SetString(pod, "metadata.labels.app", "shop", a);
  REQUIRE(SetUpApiVolumes(pod, paths, Objects(), nullptr).ok());
  CHECK(Read(paths.VolumeDir("kubernetes.io~downward-api", "info") + "/labels") == "app=\"shop\"\ntier=\"front\"");
}

TEST_CASE("volumes: base64") {
  CHECK(*DecodeBase64("aHVudGVyMg==") == "hunter2");
  CHECK(*DecodeBase64("YWJj") == "abc");
  CHECK(*DecodeBase64("") == "");
  CHECK_FALSE(DecodeBase64("abc").ok());
  CHECK_FALSE(DecodeBase64("a$c=").ok());
}

TEST_CASE("persistentVolumeClaim volumes resolve to their bound volume's host path") {
  auto pod = Json(R"({"metadata":{"name":"web-0","namespace":"ns"},"spec":{"volumes":[
      {"name":"data","persistentVolumeClaim":{"claimName":"data-web-0"}},{"name":"tmp","emptyDir":{}}]}})");
  CHECK(HasClaimVolumes(pod));
  std::map<std::string, std::string> claims, volumes;
  ClaimGetter get = [&](bool volume, const std::string& name) -> Result<api::Document> {
    auto& m = volume ? volumes : claims;
    auto it = m.find(name);
    if (it == m.end()) {
      return NotFound(std::string(volume ? "persistentvolumes" : "persistentvolumeclaims") +
                      " \"" + name + "\" not found");
    }
    return Json(it->second);
  };
  auto r = ResolveClaimVolumes(pod, get);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message() ==
        "error processing PVC ns/data-web-0: failed to fetch PVC from API server: "
        "persistentvolumeclaims \"data-web-0\" not found");
  claims["data-web-0"] = R"({"spec":{},"status":{"phase":"Pending"}})";
  r = ResolveClaimVolumes(pod, get);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message() == "error processing PVC ns/data-web-0: PVC is not bound");
  claims["data-web-0"] = R"({"spec":{"volumeName":"pv1"},"status":{"phase":"Bound"}})";
  volumes["pv1"] = R"({"spec":{"hostPath":{"path":"/srv/pv1"}}})";
  r = ResolveClaimVolumes(pod, get);
  REQUIRE(r.ok());
  const api::Value& vols = *api::Find(*r, "spec.volumes");
  CHECK(api::GetString(vols[0], "name") == "data");
  CHECK_FALSE(api::Has(vols[0], "persistentVolumeClaim"));
  CHECK(api::GetString(vols[0], "hostPath.path") == "/srv/pv1");
  CHECK(api::GetString(vols[0], "hostPath.type") == "DirectoryOrCreate");
  CHECK(api::Has(vols[1], "emptyDir"));
  volumes["pv1"] = R"({"spec":{"local":{"path":"/mnt/disk"}}})";
  r = ResolveClaimVolumes(pod, get);
  REQUIRE(r.ok());
  CHECK(api::GetString((*api::Find(*r, "spec.volumes"))[0], "hostPath.path") == "/mnt/disk");
  volumes["pv1"] = R"({"spec":{"nfs":{"server":"x","path":"/"}}})";
  CHECK_FALSE(ResolveClaimVolumes(pod, get).ok());
}

}  // namespace
}  // namespace kubepp::kubelet
