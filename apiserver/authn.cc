#include "apiserver/authn.h"

#include <algorithm>

#include "common/log.h"
#include "apiserver/serviceaccount_token.h"
#include "common/util/file.h"
#include "common/util/time.h"

namespace kubepp::apiserver {

namespace {

// One CSV record (RFC 4180 as Go's encoding/csv reads it, within one line): fields
// split on commas, a field in double quotes may hold commas and "" for a quote.
Result<std::vector<std::string>> SplitCsvLine(std::string_view line) {
  std::vector<std::string> fields;
  size_t i = 0;
  while (true) {
    std::string field;
    if (i < line.size() && line[i] == '"') {
      ++i;
      while (true) {
        if (i >= line.size()) return BadRequest("unterminated quoted field");
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        field += line[i++];
      }
      if (i < line.size() && line[i] != ',') return BadRequest("extraneous text after a quoted field");
    } else {
      size_t end = line.find(',', i);
      if (end == std::string_view::npos) end = line.size();
      field = std::string(line.substr(i, end - i));
      if (field.find('"') != std::string::npos) return BadRequest("bare \" in a field without quotes");
      i = end;
    }
    fields.push_back(std::move(field));
    if (i >= line.size()) return fields;
    ++i;  // the comma
  }
}

std::string Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(" \t");
  return std::string(s.substr(b, e - b + 1));
}

Status Unauthorized() { return Status(Code::kUnauthorized, "Unauthorized"); }

void AddGroup(std::vector<std::string>* groups, const std::string& g) {
  if (std::find(groups->begin(), groups->end(), g) == groups->end()) groups->push_back(g);
}

}  // namespace

Result<TokenFile> TokenFile::Parse(const std::string& text, const std::string& source) {
  TokenFile out;
  std::string_view rest(text);
  if (rest.substr(0, 3) == "\xEF\xBB\xBF") rest.remove_prefix(3);  // a UTF-8 BOM
  int line_no = 0;
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    std::string where = "token file " + source + " line " + std::to_string(line_no);
    auto fields = SplitCsvLine(line);
    if (!fields.ok()) return BadRequest(where + ": " + fields.status().message());
    if (fields->size() < 3) {
      return BadRequest(where + ": must have at least 3 columns (token, user name, user uid), found " +
                        std::to_string(fields->size()));
    }
    const std::string& token = (*fields)[0];
    if (token.empty()) {
      LOG(WARNING) << where << ": empty token, record skipped";
      continue;
    }
    if (out.users_.count(token)) LOG(WARNING) << where << ": duplicate token, this record wins";
    UserInfo u;
    u.name = (*fields)[1];
    u.uid = (*fields)[2];
    if (fields->size() >= 4) {
      std::string_view groups = (*fields)[3];
      while (!groups.empty()) {
        size_t comma = groups.find(',');
        std::string g = Trim(groups.substr(0, comma));
        if (!g.empty()) u.groups.push_back(std::move(g));
        groups.remove_prefix(comma == std::string_view::npos ? groups.size() : comma + 1);
      }
    }
    out.users_[token] = std::move(u);
  }
  return out;
}

Result<TokenFile> TokenFile::Load(const std::string& path) {
  auto text = util::ReadFile(path);
  if (!text.ok()) return BadRequest("--token-auth-file: " + text.status().message());
  return Parse(*text, path);
}

const UserInfo* TokenFile::Find(const std::string& token) const {
  auto it = users_.find(token);
  return it == users_.end() ? nullptr : &it->second;
}

Result<std::unique_ptr<Authenticator>> Authenticator::Create(const AuthnOptions& options) {
  TokenFile tokens;
  if (!options.token_auth_file.empty()) {
    ASSIGN_OR_RETURN(tokens, TokenFile::Load(options.token_auth_file));
    LOG(INFO) << "token authentication: " << tokens.size() << " tokens from "
              << options.token_auth_file;
  }
  return std::unique_ptr<Authenticator>(new Authenticator(options, std::move(tokens)));
}

Result<UserInfo> Authenticator::Authenticate(const http::Request& req) const {
  UserInfo u;
  if (!req.peer_cn.empty()) {
    u.name = req.peer_cn;
    u.groups = req.peer_orgs;
    AddGroup(&u.groups, kAuthenticatedGroup);
    return u;
  }
  std::string_view auth = req.Header("authorization");
  if (!auth.empty()) {
    // The scheme is case-insensitive (RFC 7235); upstream reads only Bearer.
    constexpr std::string_view kBearer = "bearer ";
    if (auth.size() > kBearer.size() && http::ToLower(auth.substr(0, kBearer.size())) == kBearer) {
      return AuthenticateToken(Trim(auth.substr(kBearer.size())), {}, nullptr);
    }
  }
  if (!options_.anonymous) return Unauthorized();
  u.name = kAnonymousUser;
  u.groups = {kUnauthenticatedGroup};
  return u;
}

Result<UserInfo> Authenticator::AuthenticateToken(const std::string& token,
                                                  const std::vector<std::string>& audiences,
                                                  std::vector<std::string>* matched) const {
  if (const UserInfo* found = tokens_.Find(token)) {
    UserInfo u = *found;
    constexpr std::string_view kSaPrefix = "system:serviceaccount:";
    if (std::string_view(u.name).substr(0, kSaPrefix.size()) == kSaPrefix) {
      std::string_view rest = std::string_view(u.name).substr(kSaPrefix.size());
      size_t colon = rest.find(':');
      if (colon != std::string_view::npos && colon > 0 && colon + 1 < rest.size()) {
        AddGroup(&u.groups, "system:serviceaccounts");
        AddGroup(&u.groups, "system:serviceaccounts:" + std::string(rest.substr(0, colon)));
      }
    }
    AddGroup(&u.groups, kAuthenticatedGroup);
    // Static tokens are valid for the API audiences only, as upstream's
    // audience-agnostic authenticators.
    if (matched != nullptr) {
      *matched = audiences;
      if (!audiences.empty() && options_.service_account_tokens != nullptr) {
        const auto& api = options_.service_account_tokens->api_audiences();
        matched->clear();
        for (const auto& a : audiences) {
          if (std::find(api.begin(), api.end(), a) != api.end()) matched->push_back(a);
        }
        if (matched->empty()) return Unauthorized();
      }
    }
    return u;
  }
  if (options_.service_account_tokens != nullptr) {
    const auto& sa = *options_.service_account_tokens;
    auto r = sa.Authenticate(token, audiences.empty() ? sa.api_audiences() : audiences,
                             util::NowUnix());
    if (r.ok()) {
      if (matched != nullptr) *matched = r->audiences;
      return std::move(r->user);
    }
    // Only a token that looks like a JWT is worth a log line; anything else is noise.
    if (std::count(token.begin(), token.end(), '.') == 2) {
      LOG(INFO) << "service account token rejected: " << r.status().message();
    }
  }
  return Unauthorized();  // a wrong token is never treated as anonymous
}

bool IsPublicPath(const std::string& path) {
  return path == "/healthz" || path == "/livez" || path == "/readyz" || path == "/version" ||
         path == "/version/";
}

http::Handler WithAuthentication(std::shared_ptr<const Authenticator> authenticator,
                                 http::Handler next) {
  return [authenticator = std::move(authenticator), next = std::move(next)](
             http::Request req, std::shared_ptr<http::ResponseWriter> w) {
    auto user = authenticator->Authenticate(req);
    if (!user.ok()) {
      http::Response r;
      r.status = 401;
      r.body = Unauthorized().ToJson();
      return w->Send(std::move(r));
    }
    req.user = std::move(user->name);
    req.groups = std::move(user->groups);
    next(std::move(req), std::move(w));
  };
}

}  // namespace kubepp::apiserver
