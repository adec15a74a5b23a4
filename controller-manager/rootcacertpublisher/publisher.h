// The root CA certificate publisher (upstream's root-ca-cert-publisher): every active
// namespace has the ConfigMap kube-root-ca.crt whose data is exactly {ca.crt: <the
// cluster CA bundle>}, so that pods can verify the apiserver (the ServiceAccount
// admission projects it into /var/run/secrets/kubernetes.io/serviceaccount/ca.crt).
// Edited or deleted copies are put back.
// Thread safety: Sync runs on several workers at once, for different namespaces.
#pragma once

#include <string>

#include "common/client/rest_client.h"
#include "controller-manager/framework/controller.h"
#include "controller-manager/framework/informers.h"

namespace kubepp::controller {

inline constexpr const char* kRootCaConfigMap = "kube-root-ca.crt";

class RootCaCertPublisher : public QueueController {
 public:
  // `root_ca`: the PEM bundle to publish (non-empty).
  RootCaCertPublisher(client::RestClient* client, SharedInformers* informers, std::string root_ca);

  // key: a namespace name.
  Status Sync(const std::string& key) override;

 private:
  client::RestClient* client_;
  informer::Informer& namespaces_;
  informer::Informer& configmaps_;
  std::string root_ca_;
};

}  // namespace kubepp::controller
