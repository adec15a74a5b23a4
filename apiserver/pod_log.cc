// pods/log: the apiserver proxies to the kubelet of the pod's node, as upstream does
// (GET https://<node InternalIP>:<kubelet port>/containerLogs/<ns>/<pod>/<container>,
// with the kubelet client certificate of SetKubeletClient).
#include <thread>

#include "apiserver/api.h"
#include "common/http/client.h"
#include "common/log.h"
#include "common/util/strings.h"

namespace kubepp::apiserver {

namespace {

using util::GoQuote;  // as Go's %q in upstream's messages

// The container the request names, or the pod's only one.
Result<std::string> ContainerOf(const http::Request& req, const api::Value& pod,
                                const std::string& pod_name) {
  std::vector<std::string> names;
  for (const char* list : {"spec.initContainers", "spec.containers"}) {
    if (const api::Value* cs = api::Find(pod, list); cs && cs->IsArray()) {
      for (auto& c : cs->GetArray()) names.push_back(api::GetString(c, "name"));
    }
  }
  std::string want = req.Query("container");
  if (want.empty()) {
    const api::Value* cs = api::Find(pod, "spec.containers");
    if (cs && cs->IsArray() && cs->Size() == 1) return api::GetString((*cs)[0], "name");
    std::string all;
    for (auto& n : names) all += (all.empty() ? "" : " ") + n;
    return BadRequest("a container name must be specified for pod " + pod_name +
                      ", choose one of: [" + all + "]");
  }
  for (auto& n : names) {
    if (n == want) return want;
  }
  return BadRequest("container " + want + " is not valid for pod " + pod_name);
}

// A kubelet's error answer as upstream's GenericHttpResponseChecker turns it into a
// Status: a Status body passes as it is; a text one (the kubelet's "Unauthorized",
// "Forbidden (user=...)") becomes errors.NewGenericServerResponse's message, which keeps
// the text of a 403, followed by "( pods/log <pod>)".
http::Response KubeletError(int http_status, const std::string& content_type, std::string body,
                            const std::string& pod_name) {
  http::Response out;
  out.status = http_status;
  if (content_type.rfind("application/json", 0) == 0 && body.find("\"Status\"") != std::string::npos) {
    out.body = std::move(body);
    return out;
  }
  while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.pop_back();
  std::string message;
  switch (http_status) {
    case 400: message = "the server rejected our request for an unknown reason"; break;
    case 401: message = "the server has asked for the client to provide credentials"; break;
    case 403: message = body; break;
    case 404: message = "the server could not find the requested resource"; break;
    default:
      message = "the server responded with the status code " + std::to_string(http_status) +
                " but did not return more information";
  }
  Status st(CodeFromHttp(http_status, ""), message + " ( pods/log " + pod_name + ")");
  st.mutable_details().name = pod_name;
  st.mutable_details().kind = "pods/log";
  if (!body.empty()) st.mutable_details().causes.push_back({"UnexpectedServerResponse", body, ""});
  out.body = st.ToJson();
  return out;
}

}  // namespace

void Api::Log(const http::Request& req, const RequestInfo& info, const Writer& w) {
  auto obj = storage_->Get("pods", info.ns, info.name);
  if (obj == nullptr) {
    return SendStatus(w, NotFound("pods " + GoQuote(info.name) + " not found")
                             .WithDetails(info.name, "", "pods"));
  }
  auto pod = api::ParseJson(obj->json);
  if (!pod.ok()) return SendStatus(w, pod.status());
  auto container = ContainerOf(req, *pod, info.name);
  if (!container.ok()) return SendStatus(w, container.status());
  std::string node_name = api::GetString(*pod, "spec.nodeName");
  if (node_name.empty()) {
    return SendStatus(w, BadRequest("pod " + GoQuote(info.name) +
                                    " is not scheduled to a node yet: no logs to show"));
  }
  auto node_obj = storage_->Get("nodes", "", node_name);
  auto node = node_obj ? api::ParseJson(node_obj->json) : Result<api::Document>(NotFound(""));
  std::string address;
  int64_t port = 0;
  if (node.ok()) {
    port = api::GetInt(*node, "status.daemonEndpoints.kubeletEndpoint.Port", 0);
    if (const api::Value* as = api::Find(*node, "status.addresses"); as && as->IsArray()) {
      for (auto& a : as->GetArray()) {
        if (api::GetString(a, "type") == "InternalIP") address = api::GetString(a, "address");
      }
    }
  }
  if (address.empty() || port <= 0) {
    return SendStatus(w, Status(Code::kUnavailable, "the kubelet of node " + GoQuote(node_name) +
                                                        " does not advertise an address and port"));
  }
  std::string target = "/containerLogs/" + info.ns + "/" + info.name + "/" + *container;
  std::string sep = "?";
  for (const char* q : {"follow", "tailLines", "timestamps", "sinceSeconds", "sinceTime",
                        "previous", "limitBytes"}) {
    if (req.HasQuery(q)) {
      target += sep + q + "=" + http::PercentEncode(req.Query(q));
      sep = "&";
    }
  }
  http::ClientOptions co = kubelet_client_;
  std::string host = address.find(':') != std::string::npos ? "[" + address + "]" : address;
  co.server = "https://" + host + ":" + std::to_string(port);
  auto client = http::Client::Create(co);
  if (!client.ok()) return SendStatus(w, client.status());
  bool follow = req.Query("follow") == "true" || req.Query("follow") == "1";
  // The kubelet is another process that may be slow: never block an I/O thread on it.
  std::shared_ptr<http::Client> c = std::move(client).value();
  std::string pod_name = info.name;
  std::thread([c, w, target, follow, pod_name] {
    if (!follow) {
      auto r = c->Do("GET", target);
      if (!r.ok()) return SendStatus(w, r.status());
      if (r->status != 200) {
        return w->Send(KubeletError(r->status, r->content_type, std::move(r->body), pod_name));
      }
      http::Response out;
      out.content_type = "text/plain";
      out.body = std::move(r->body);
      return w->Send(std::move(out));
    }
    auto stop = std::make_shared<std::atomic<bool>>(false);
    w->OnClose([stop] { *stop = true; });
    bool started = false;
    Status st = c->StreamLines(
        target,
        [&](std::string_view line) {
          if (!started) {
            w->StartStream(200, "text/plain");
            started = true;
          }
          return w->WriteChunk(std::string(line) + "\n");
        },
        stop.get());
    if (!started) {
      if (!st.ok()) return SendStatus(w, st);
      w->StartStream(200, "text/plain");
    }
    w->EndStream();
  }).detach();
}

}  // namespace kubepp::apiserver
