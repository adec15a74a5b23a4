#include "controller-manager/framework/conditions.h"

namespace kubepp::controller {

const api::Value* FindCondition(const api::Value& status, std::string_view type) {
  const api::Value* conds = api::FindMember(status, "conditions");
  if (conds == nullptr || !conds->IsArray()) return nullptr;
  for (const auto& c : conds->GetArray()) {
    if (api::GetString(c, "type") == type) return &c;
  }
  return nullptr;
}

void SetCondition(api::Value& status, const Condition& c, const std::string& now, bool update_time,
                  bool refresh, api::Allocator& a) {
  if (!status.IsObject()) status.SetObject();
  std::string transition = now;
  if (const api::Value* cur = FindCondition(status, c.type)) {
    bool same = api::GetString(*cur, "status") == c.status;
    if (same && api::GetString(*cur, "reason") == c.reason && !refresh) return;
    if (same) transition = api::GetString(*cur, "lastTransitionTime", now);
    RemoveCondition(status, c.type);
  }
  api::Value cond(rapidjson::kObjectType);
  cond.AddMember("type", api::Str(c.type, a), a);
  cond.AddMember("status", api::Str(c.status, a), a);
  if (update_time) cond.AddMember("lastUpdateTime", api::Str(now, a), a);
  cond.AddMember("lastTransitionTime", api::Str(transition, a), a);
  cond.AddMember("reason", api::Str(c.reason, a), a);
  cond.AddMember("message", api::Str(c.message, a), a);
  if (!status.HasMember("conditions") || !status["conditions"].IsArray()) {
    status.RemoveMember("conditions");
    status.AddMember("conditions", api::Value(rapidjson::kArrayType), a);
  }
  status["conditions"].PushBack(std::move(cond), a);
}

bool RemoveCondition(api::Value& status, std::string_view type) {
  if (!status.IsObject() || !status.HasMember("conditions") || !status["conditions"].IsArray()) {
    return false;
  }
  api::Value& conds = status["conditions"];
  for (auto it = conds.Begin(); it != conds.End(); ++it) {
    if (api::GetString(*it, "type") == type) {
      conds.Erase(it);
      return true;
    }
  }
  return false;
}

}  // namespace kubepp::controller
