#include "controller-manager/framework/informers.h"

#include <thread>

namespace kubepp::controller {

SharedInformers::SharedInformers(client::RestClient* client, informer::InformerOptions options)
    : client_(client), options_(std::move(options)) {}

SharedInformers::~SharedInformers() { Stop(); }

informer::Informer& SharedInformers::For(const client::ResourceRef& ref) {
  auto& slot = informers_[ref.ApiVersion() + "/" + ref.plural];
  if (!slot) {
    slot = std::make_unique<informer::Informer>(client_, ref, options_);
    if (started_) slot->Start();
  }
  return *slot;
}

void SharedInformers::Start() {
  started_ = true;
  for (auto& [name, inf] : informers_) inf->Start();
}

bool SharedInformers::WaitForSync(std::chrono::milliseconds timeout,
                                  const std::atomic<bool>* stop) {
  auto until = std::chrono::steady_clock::now() + timeout;
  for (auto& [name, inf] : informers_) {
    while (!inf->WaitForSync(std::chrono::milliseconds(100))) {
      if ((stop != nullptr && stop->load()) || std::chrono::steady_clock::now() > until) {
        return false;
      }
    }
  }
  return true;
}

void SharedInformers::Stop() {
  for (auto& [name, inf] : informers_) inf->Stop();
}

}  // namespace kubepp::controller
