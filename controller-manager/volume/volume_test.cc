#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "common/testing/temp_dir.h"
#include "controller-manager/framework/testing.h"
#include "controller-manager/volume/local_path_provisioner.h"
#include "controller-manager/volume/protection_controller.h"
#include "controller-manager/volume/pv_binder.h"

namespace kubepp::controller {
namespace {

namespace fs = std::filesystem;
using client::kPersistentVolumeClaims;
using client::kPersistentVolumes;
using client::kStorageClasses;
using testing::Env;
using testing::Json;

std::string Claim(const std::string& name, const std::string& size, const std::string& extra = "") {
  return R"({"apiVersion":"v1","kind":"PersistentVolumeClaim","metadata":{"name":")" + name +
         R"(","namespace":"ns"},"spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":")" +
         size + "\"}}" + extra + R"(},"status":{"phase":"Pending"}})";
}

std::string Volume(const std::string& name, const std::string& size, const std::string& extra = "") {
  return R"({"apiVersion":"v1","kind":"PersistentVolume","metadata":{"name":")" + name +
         R"("},"spec":{"accessModes":["ReadWriteOnce","ReadOnlyMany"],"capacity":{"storage":")" + size +
         R"("},"persistentVolumeReclaimPolicy":"Retain","hostPath":{"path":"/tmp/)" + name + "\"}" +
         extra + R"(},"status":{"phase":"Available"}})";
}

TEST_CASE("FindMatchingVolume: the smallest volume that fits, pre-bound first") {
  api::Document claim = Json(Claim("c", "2Gi"));
  api::SetString(claim, "metadata.uid", "u1", claim.GetAllocator());
  api::Document small = Json(Volume("small", "1Gi"));
  api::Document big = Json(Volume("big", "10Gi"));
  api::Document fit = Json(Volume("fit", "3Gi"));
  api::Document other_class = Json(Volume("gold", "2Gi", R"(,"storageClassName":"gold")"));
  api::Document rwx = Json(Volume("rwx", "2Gi"));
  api::SetValue(rwx, "spec.accessModes", api::Value(Json(R"(["ReadWriteMany"])"), rwx.GetAllocator()),
                rwx.GetAllocator());
  std::vector<const api::Value*> all = {&small, &big, &fit, &other_class, &rwx};
  CHECK(FindMatchingVolume(claim, all) == &fit);
  // Of the claim's class only.
  api::SetString(claim, "spec.storageClassName", "gold", claim.GetAllocator());
  CHECK(FindMatchingVolume(claim, all) == &other_class);
  api::Remove(claim, "spec.storageClassName");
  // A selector narrows the choice.
  api::SetStringMap(big, "metadata.labels", {{"disk", "ssd"}}, big.GetAllocator());
  api::SetValue(claim, "spec.selector", api::Value(Json(R"({"matchLabels":{"disk":"ssd"}})"), claim.GetAllocator()),
                claim.GetAllocator());
  CHECK(FindMatchingVolume(claim, all) == &big);
  api::Remove(claim, "spec.selector");
  // A volume pre-bound to the claim wins even when bigger; taken volumes are skipped.
  api::SetValue(big, "spec.claimRef", api::Value(Json(R"({"namespace":"ns","name":"c"})"), big.GetAllocator()),
                big.GetAllocator());
  CHECK(FindMatchingVolume(claim, all) == &big);
  api::SetString(big, "spec.claimRef.name", "someone-else", big.GetAllocator());
  CHECK(FindMatchingVolume(claim, all) == &fit);
  // Nothing big enough.
  api::SetString(claim, "spec.resources.requests.storage", "1Ti", claim.GetAllocator());
  CHECK(FindMatchingVolume(claim, all) == nullptr);
}

struct Fixture {
  Fixture()
      : binder(env.Own(std::make_unique<PersistentVolumeBinder>(&env.fake, &env.informers, &env.events))),
        provisioner(env.Own(std::make_unique<LocalPathProvisioner>(&env.fake, &env.informers,
                                                                   &env.events, dir.path()))) {
    env.Watch(kPersistentVolumeClaims);
    env.Watch(kPersistentVolumes);
    env.Watch(kStorageClasses);
    env.Start();
  }
  // Runs both controllers over every key until nothing changes.
  void Converge() {
    for (int round = 0; round < 6; ++round) {
      env.Settle();
      REQUIRE(provisioner.Sync(LocalPathProvisioner::kClassKey).ok());
      for (const auto& kind : {kPersistentVolumeClaims, kPersistentVolumes}) {
        for (auto& o : env.List(kind)) {
          std::string key = informer::KeyOf(o);
          env.Settle();
          (void)binder.Sync(key);
          env.Settle();
          (void)provisioner.Sync(key);
        }
      }
    }
    env.Settle();
  }
  Env env;
  PersistentVolumeBinder& binder;
  ::kubepp::testing::TempDir dir;
  LocalPathProvisioner& provisioner;
};

TEST_CASE("pv binder: binds a claim to a fitting volume, both Bound, annotations as upstream") {
  Fixture f;
  f.env.Create(kPersistentVolumes, Volume("pv-big", "5Gi"));
  f.env.Create(kPersistentVolumes, Volume("pv-fit", "1Gi"));
  auto claim = f.env.Create(kPersistentVolumeClaims, Claim("data", "500Mi", R"(,"storageClassName":"")"));
  f.Converge();
  auto pvc = f.env.Get(kPersistentVolumeClaims, "ns", "data");
  auto pv = f.env.Get(kPersistentVolumes, "", "pv-fit");
  CHECK(api::GetString(pvc, "spec.volumeName") == "pv-fit");
  CHECK(api::GetString(pvc, "status.phase") == "Bound");
  CHECK(api::GetString(pvc, "status.capacity.storage") == "1Gi");
  CHECK(api::Find(pvc, "status.accessModes")->Size() == 2);  // the volume's modes
  auto ann = api::GetStringMap(pvc, "metadata.annotations");
  CHECK(ann[kAnnBindCompleted] == "yes");
  CHECK(ann[kAnnBoundByController] == "yes");
  CHECK(api::GetString(pv, "status.phase") == "Bound");
  CHECK(api::GetString(pv, "spec.claimRef.name") == "data");
  CHECK(api::GetString(pv, "spec.claimRef.uid") == api::GetString(claim, "metadata.uid"));
  CHECK(api::GetStringMap(pv, "metadata.annotations")[kAnnBoundByController] == "yes");
  CHECK(api::GetString(f.env.Get(kPersistentVolumes, "", "pv-big"), "status.phase") == "Available");

  // The claim goes: its Retain volume is Released and stays.
  REQUIRE(f.env.fake.Delete(kPersistentVolumeClaims, "ns", "data").ok());
  f.Converge();
  pv = f.env.Get(kPersistentVolumes, "", "pv-fit");
  CHECK(api::GetString(pv, "status.phase") == "Released");
}

TEST_CASE("pv binder: no volume and no class leaves the claim Pending with an event") {
  Fixture f;
  f.env.Create(kPersistentVolumeClaims, Claim("data", "1Gi", R"(,"storageClassName":"")"));
  f.Converge();
  auto pvc = f.env.Get(kPersistentVolumeClaims, "ns", "data");
  CHECK(api::GetString(pvc, "status.phase") == "Pending");
  CHECK(api::GetString(pvc, "spec.volumeName").empty());
  CHECK(f.env.events.Has("FailedBinding"));
}

TEST_CASE("local-path: default class, a provisioned hostPath volume, deleted with its claim") {
  Fixture f;
  f.Converge();
  auto sc = f.env.Get(kStorageClasses, "", kLocalPathClass);
  CHECK(api::GetString(sc, "provisioner") == kLocalPathProvisioner);
  CHECK(api::GetString(sc, "reclaimPolicy") == "Delete");
  CHECK(api::GetString(sc, "volumeBindingMode") == "Immediate");
  CHECK(api::GetStringMap(sc, "metadata.annotations")[kAnnDefaultClass] == "true");

  auto claim = f.env.Create(kPersistentVolumeClaims, Claim("data", "1Gi", R"(,"storageClassName":"local-path")"));
  std::string uid = api::GetString(claim, "metadata.uid");
  f.Converge();
  auto pvc = f.env.Get(kPersistentVolumeClaims, "ns", "data");
  CHECK(api::GetStringMap(pvc, "metadata.annotations")[kAnnStorageProvisioner] == kLocalPathProvisioner);
  CHECK(f.env.events.Has("ExternalProvisioning"));
  CHECK(f.env.events.Has("ProvisioningSucceeded"));
  CHECK(api::GetString(pvc, "status.phase") == "Bound");
  CHECK(api::GetString(pvc, "spec.volumeName") == "pvc-" + uid);
  auto pv = f.env.Get(kPersistentVolumes, "", "pvc-" + uid);
  std::string path = api::GetString(pv, "spec.hostPath.path");
  CHECK(path == f.dir.Join("pvc-" + uid + "_ns_data"));
  CHECK(api::GetString(pv, "spec.hostPath.type") == "DirectoryOrCreate");
  CHECK(api::GetString(pv, "spec.persistentVolumeReclaimPolicy") == "Delete");
  CHECK(api::GetString(pv, "spec.storageClassName") == "local-path");
  CHECK(api::GetString(pv, "spec.capacity.storage") == "1Gi");
  CHECK(api::GetStringMap(pv, "metadata.annotations")[kAnnProvisionedBy] == kLocalPathProvisioner);
  CHECK(api::GetString(pv, "status.phase") == "Bound");
  REQUIRE(fs::is_directory(path));
  std::ofstream(path + "/file") << "data";

  // The claim goes: Released, then the directory and the volume go.
  REQUIRE(f.env.fake.Delete(kPersistentVolumeClaims, "ns", "data").ok());
  f.Converge();
  CHECK_FALSE(f.env.Exists(kPersistentVolumes, "", "pvc-" + uid));
  CHECK_FALSE(fs::exists(path));
}

TEST_CASE("local-path: the class is not made the default when another class is") {
  Fixture f;
  f.env.Create(kStorageClasses, R"({"apiVersion":"storage.k8s.io/v1","kind":"StorageClass","metadata":{"name":"gold",
      "annotations":{"storageclass.kubernetes.io/is-default-class":"true"}},"provisioner":"example.com/x"})");
  f.Converge();
  auto sc = f.env.Get(kStorageClasses, "", kLocalPathClass);
  CHECK(api::GetStringMap(sc, "metadata.annotations").count(kAnnDefaultClass) == 0);
}

TEST_CASE("pvc-protection: a claim in use keeps its finalizer until its pods are done") {
  Env env;
  auto& pvc_protection = env.Own(std::make_unique<StorageProtectionController>(&env.fake, &env.informers, true));
  auto& pv_protection = env.Own(std::make_unique<StorageProtectionController>(&env.fake, &env.informers, false));
  env.Watch(kPersistentVolumeClaims);
  env.Watch(kPersistentVolumes);
  env.Watch(client::kPods);
  env.Start();
  auto claim = Json(Claim("data", "1Gi"));
  api::SetValue(claim, "metadata.finalizers", api::Value(Json(R"(["kubernetes.io/pvc-protection"])"), claim.GetAllocator()),
                claim.GetAllocator());
  api::SetString(claim, "metadata.deletionTimestamp", "2026-01-01T00:00:00Z", claim.GetAllocator());
  REQUIRE(env.fake.Create(kPersistentVolumeClaims, "", claim).ok());
  env.Create(client::kPods, R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"user","namespace":"ns"},
      "spec":{"nodeName":"n1","volumes":[{"name":"v","persistentVolumeClaim":{"claimName":"data"}}],"containers":[{"name":"c","image":"x"}]},
      "status":{"phase":"Running"}})");
  env.Settle();
  REQUIRE(pvc_protection.Sync("ns/data").ok());
  CHECK(env.Get(kPersistentVolumeClaims, "ns", "data")["metadata"]["finalizers"].Size() == 1);
  auto pod = env.Get(client::kPods, "ns", "user");
  api::SetString(pod, "status.phase", "Succeeded", pod.GetAllocator());
  REQUIRE(env.fake.UpdateStatus(client::kPods, "", pod).ok());
  env.Settle();
  REQUIRE(pvc_protection.Sync("ns/data").ok());
  CHECK(env.Get(kPersistentVolumeClaims, "ns", "data")["metadata"]["finalizers"].Size() == 0);

  // A volume: held while Bound, released otherwise.
  auto pv = Json(Volume("pv1", "1Gi"));
  auto& a = pv.GetAllocator();
  api::SetValue(pv, "metadata.finalizers", api::Value(Json(R"(["kubernetes.io/pv-protection"])"), a), a);
  api::SetString(pv, "metadata.deletionTimestamp", "2026-01-01T00:00:00Z", a);
  api::SetString(pv, "status.phase", "Bound", a);
  REQUIRE(env.fake.Create(kPersistentVolumes, "", pv).ok());
  env.Settle();
  REQUIRE(pv_protection.Sync("pv1").ok());
  CHECK(env.Get(kPersistentVolumes, "", "pv1")["metadata"]["finalizers"].Size() == 1);
  auto got = env.Get(kPersistentVolumes, "", "pv1");
  api::SetString(got, "status.phase", "Released", got.GetAllocator());
  REQUIRE(env.fake.UpdateStatus(kPersistentVolumes, "", got).ok());
  env.Settle();
  REQUIRE(pv_protection.Sync("pv1").ok());
  CHECK(env.Get(kPersistentVolumes, "", "pv1")["metadata"]["finalizers"].Size() == 0);
}

}  // namespace
}  // namespace kubepp::controller
