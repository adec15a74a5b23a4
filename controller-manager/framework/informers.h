// One shared informer per resource for the whole controller-manager: every controller
// that watches pods reads the same cache, so the process lists and watches each
// resource once (as client-go's SharedInformerFactory).
//
// Thread safety: For() is called during setup only (before Start); afterwards the
// informers themselves are thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/client/rest_client.h"
#include "common/informer/informer.h"

namespace kubepp::controller {

using informer::ObjectPtr;

class SharedInformers {
 public:
  // `client` must outlive this object.
  explicit SharedInformers(client::RestClient* client, informer::InformerOptions options = {});
  ~SharedInformers();  // Stop()

  // The informer of `ref`, created on first use.
  informer::Informer& For(const client::ResourceRef& ref);
  // Starts every informer created so far.
  void Start();
  // Whether all of them listed once within `timeout` (false also when *stop turns true).
  bool WaitForSync(std::chrono::milliseconds timeout, const std::atomic<bool>* stop);
  void Stop();

 private:
  client::RestClient* client_;
  informer::InformerOptions options_;
  std::map<std::string, std::unique_ptr<informer::Informer>> informers_;  // by apiVersion/plural
  bool started_ = false;
};

}  // namespace kubepp::controller
