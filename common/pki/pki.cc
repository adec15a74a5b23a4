#include "common/pki/pki.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <memory>

#include "common/client/cert_expiry.h"
#include "common/log.h"
#include "common/pki/openssl_ptr.h"
#include "common/util/file.h"

namespace kubepp::pki {

namespace {

using openssl::BioPtr;
using openssl::BnPtr;
using openssl::ExtPtr;
using openssl::KeyPtr;
using openssl::StoreCtxPtr;
using openssl::StorePtr;
using openssl::X509Ptr;

// Certificates start an hour back so that a peer whose clock lags still accepts them.
constexpr long kBackdateSeconds = 3600;
constexpr int64_t kRenewBeforeSeconds = 30 * 24 * 3600;

Result<X509Ptr> ReadCert(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return BadRequest(openssl::Error("no PEM certificate"));
  return cert;
}

Result<KeyPtr> ReadKey(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  KeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return BadRequest(openssl::Error("no PEM private key"));
  return key;
}

std::string BioText(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(n));
}

Result<std::string> CertPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_X509(bio.get(), cert) != 1) {
    return Internal(openssl::Error("PEM_write_bio_X509"));
  }
  return BioText(bio.get());
}

Result<std::string> KeyPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return Internal(openssl::Error("PEM_write_bio_PrivateKey"));
  }
  return BioText(bio.get());
}

// Adds an extension in OpenSSL's config syntax ("critical,CA:TRUE"); `issuer` and
// `subject` feed the key identifier extensions.
Status AddExt(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return BadRequest(openssl::Error("certificate extension " + std::string(OBJ_nid2sn(nid)) +
                                   "=" + value));
  }
  return Status::Ok();
}

// A certificate for `key` named `spec`'s subject, valid from an hour ago, with a random
// 127-bit serial (positive, as RFC 5280 wants); extensions and signature are the
// caller's.
Result<X509Ptr> NewUnsigned(EVP_PKEY* key, const std::string& cn,
                            const std::vector<std::string>& orgs, int validity_days) {
  X509Ptr cert(X509_new());
  if (!cert) return Internal(openssl::Error("X509_new"));
  X509_set_version(cert.get(), 2);  // v3
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) return Internal(openssl::Error("RAND_bytes"));
  serial[0] &= 0x7f;
  BnPtr bn(BN_bin2bn(serial, sizeof serial, nullptr));
  if (!bn || BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get())) == nullptr) {
    return Internal(openssl::Error("serial number"));
  }
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -kBackdateSeconds);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(validity_days) * 86400);
  X509_NAME* name = X509_get_subject_name(cert.get());
  for (const auto& o : orgs) {
    X509_NAME_add_entry_by_NID(name, NID_organizationName, MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(o.c_str()), -1, -1, 0);
  }
  X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  if (X509_set_pubkey(cert.get(), key) != 1) return Internal(openssl::Error("X509_set_pubkey"));
  return cert;
}

Result<KeyPtr> NewKey() {
  KeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return Internal(openssl::Error("generating an EC key"));
  return key;
}

Result<CertKey> Finish(X509* cert, EVP_PKEY* signer, EVP_PKEY* key) {
  if (X509_sign(cert, signer, EVP_sha256()) <= 0) return Internal(openssl::Error("X509_sign"));
  CertKey out;
  ASSIGN_OR_RETURN(out.cert_pem, CertPem(cert));
  ASSIGN_OR_RETURN(out.key_pem, KeyPem(key));
  return out;
}

std::string Asn1Utf8(const ASN1_STRING* s) {
  unsigned char* utf8 = nullptr;
  int n = ASN1_STRING_to_UTF8(&utf8, s);
  if (n < 0) return "";
  std::string out(reinterpret_cast<char*>(utf8), static_cast<size_t>(n));
  OPENSSL_free(utf8);
  return out;
}

int64_t UnixTime(const ASN1_TIME* t) {
  struct tm tm {};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return static_cast<int64_t>(timegm(&tm));
}

// The canonical text of an address in a certificate (inet_ntop's).
std::string IpText(const ASN1_OCTET_STRING* ip) {
  char buf[INET6_ADDRSTRLEN] = {};
  int len = ASN1_STRING_length(ip);
  int family = len == 4 ? AF_INET : len == 16 ? AF_INET6 : 0;
  if (family == 0 || inet_ntop(family, ASN1_STRING_get0_data(ip), buf, sizeof buf) == nullptr) {
    return "";
  }
  return buf;
}

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// The file's text, or "" when it does not exist.
Result<std::string> ReadIfExists(const std::string& path) {
  auto r = util::ReadFile(path);
  if (!r.ok() && r.status().code() == Code::kNotFound) return std::string();
  return r;
}

// An existing certificate + key pair under `ca` that is still good for `spec`, or why not.
Status Reusable(const CertKey& ca, const CertKey& have, const CertSpec& spec) {
  RETURN_IF_ERROR(VerifyCert(ca.cert_pem, have.cert_pem));
  RETURN_IF_ERROR(CheckKeyMatches(have.cert_pem, have.key_pem));
  ASSIGN_OR_RETURN(auto info, ParseCert(have.cert_pem));
  if (info.not_after - std::time(nullptr) < kRenewBeforeSeconds) {
    return BadRequest("expires within 30 days");
  }
  if (info.common_name != spec.common_name || info.organizations != spec.organizations) {
    return BadRequest("has another subject");
  }
  for (const auto& d : spec.dns_names) {
    if (!Contains(info.dns_names, d)) return BadRequest("does not cover " + d);
  }
  for (const auto& ip : spec.ip_addresses) {
    // Compare in OpenSSL's own rendering of the address.
    ASN1_OCTET_STRING* a = a2i_IPADDRESS(ip.c_str());
    std::string want = a ? IpText(a) : ip;
    ASN1_OCTET_STRING_free(a);
    if (!Contains(info.ip_addresses, want)) return BadRequest("does not cover " + ip);
  }
  return Status::Ok();
}

}  // namespace

Result<CertKey> NewCa(const std::string& common_name, int validity_days) {
  ASSIGN_OR_RETURN(auto key, NewKey());
  ASSIGN_OR_RETURN(auto cert, NewUnsigned(key.get(), common_name, {}, validity_days));
  X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get()));
  RETURN_IF_ERROR(AddExt(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE"));
  RETURN_IF_ERROR(AddExt(cert.get(), cert.get(), NID_key_usage,
                         "critical,digitalSignature,keyCertSign,cRLSign"));
  RETURN_IF_ERROR(AddExt(cert.get(), cert.get(), NID_subject_key_identifier, "hash"));
  return Finish(cert.get(), key.get(), key.get());
}

Result<CertKey> NewCert(const CertKey& ca, const CertSpec& spec) {
  ASSIGN_OR_RETURN(auto ca_cert, ReadCert(ca.cert_pem));
  ASSIGN_OR_RETURN(auto ca_key, ReadKey(ca.key_pem));
  ASSIGN_OR_RETURN(auto key, NewKey());
  ASSIGN_OR_RETURN(auto cert,
                   NewUnsigned(key.get(), spec.common_name, spec.organizations, spec.validity_days));
  X509_set_issuer_name(cert.get(), X509_get_subject_name(ca_cert.get()));
  X509* c = cert.get();
  RETURN_IF_ERROR(AddExt(c, ca_cert.get(), NID_basic_constraints, "critical,CA:FALSE"));
  RETURN_IF_ERROR(AddExt(c, ca_cert.get(), NID_key_usage, "critical,digitalSignature"));
  std::string eku;
  if (spec.server) eku = "serverAuth";
  if (spec.client) eku += std::string(eku.empty() ? "" : ",") + "clientAuth";
  if (!eku.empty()) RETURN_IF_ERROR(AddExt(c, ca_cert.get(), NID_ext_key_usage, eku));
  std::string san;
  for (const auto& d : spec.dns_names) san += (san.empty() ? "" : ",") + std::string("DNS:") + d;
  for (const auto& ip : spec.ip_addresses) {
    ASN1_OCTET_STRING* parsed = a2i_IPADDRESS(ip.c_str());
    if (parsed == nullptr) return BadRequest("invalid IP address \"" + ip + "\" for a certificate");
    ASN1_OCTET_STRING_free(parsed);
    san += (san.empty() ? "" : ",") + std::string("IP:") + ip;
  }
  if (!san.empty()) RETURN_IF_ERROR(AddExt(c, ca_cert.get(), NID_subject_alt_name, san));
  RETURN_IF_ERROR(AddExt(c, ca_cert.get(), NID_subject_key_identifier, "hash"));
  RETURN_IF_ERROR(AddExt(c, ca_cert.get(), NID_authority_key_identifier, "keyid:always"));
  return Finish(c, ca_key.get(), key.get());
}

Status EnsureCert(const CertKey& ca, const CertSpec& spec, const std::string& cert_path,
                  const std::string& key_path) {
  CertKey have;
  ASSIGN_OR_RETURN(have.cert_pem, ReadIfExists(cert_path));
  ASSIGN_OR_RETURN(have.key_pem, ReadIfExists(key_path));
  if (!have.cert_pem.empty() && !have.key_pem.empty()) {
    Status why = Reusable(ca, have, spec);
    if (why.ok()) return Status::Ok();
    LOG(INFO) << "reissuing " << cert_path << ": " << why.message();
  } else {
    LOG(INFO) << "issuing " << cert_path;
  }
  ASSIGN_OR_RETURN(auto issued, NewCert(ca, spec));
  // Key first: a crash in between leaves a new key with the old certificate, which the
  // next start sees as mismatched and reissues.
  RETURN_IF_ERROR(util::WriteFileAtomic(key_path, issued.key_pem, 0600));
  return util::WriteFileAtomic(cert_path, issued.cert_pem, 0644);
}

Status EnsureSelfSigned(const CertSpec& spec, const std::string& cert_path,
                        const std::string& key_path) {
  CertKey have;
  ASSIGN_OR_RETURN(have.cert_pem, ReadIfExists(cert_path));
  ASSIGN_OR_RETURN(have.key_pem, ReadIfExists(key_path));
  if (!have.cert_pem.empty() && !have.key_pem.empty()) {
    std::vector<std::string> chain = SplitCerts(have.cert_pem);
    Status why = chain.size() == 2 ? Reusable(CertKey{chain[1], ""}, have, spec)
                                   : BadRequest("is not a certificate and its CA");
    if (why.ok()) return Status::Ok();
    LOG(INFO) << "regenerating " << cert_path << ": " << why.message();
  } else {
    LOG(INFO) << "generating the self-signed certificate " << cert_path;
  }
  ASSIGN_OR_RETURN(auto ca, NewCa(spec.common_name + "-ca@" + std::to_string(std::time(nullptr)),
                                  spec.validity_days));
  ASSIGN_OR_RETURN(auto issued, NewCert(ca, spec));
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(cert_path).parent_path(), ec);
  // Key first, as EnsureCert. The CA's key is not kept: nothing else is ever signed.
  RETURN_IF_ERROR(util::WriteFileAtomic(key_path, issued.key_pem, 0600));
  return util::WriteFileAtomic(cert_path, issued.cert_pem + ca.cert_pem, 0644);
}

std::vector<std::string> SplitCerts(const std::string& pem) {
  static const std::string kBegin = "-----BEGIN CERTIFICATE-----";
  static const std::string kEnd = "-----END CERTIFICATE-----";
  std::vector<std::string> out;
  size_t pos = 0;
  while ((pos = pem.find(kBegin, pos)) != std::string::npos) {
    size_t end = pem.find(kEnd, pos);
    if (end == std::string::npos) break;
    end += kEnd.size();
    out.push_back(pem.substr(pos, end - pos) + "\n");
    pos = end;
  }
  return out;
}

Result<CertInfo> ParseCert(const std::string& cert_pem) {
  ASSIGN_OR_RETURN(auto cert, ReadCert(cert_pem));
  CertInfo info;
  X509_NAME* subject = X509_get_subject_name(cert.get());
  for (int i = 0; i < X509_NAME_entry_count(subject); ++i) {
    X509_NAME_ENTRY* e = X509_NAME_get_entry(subject, i);
    int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
    if (nid == NID_commonName) info.common_name = Asn1Utf8(X509_NAME_ENTRY_get_data(e));
    if (nid == NID_organizationName) {
      info.organizations.push_back(Asn1Utf8(X509_NAME_ENTRY_get_data(e)));
    }
  }
  info.not_before = UnixTime(X509_get0_notBefore(cert.get()));
  info.not_after = UnixTime(X509_get0_notAfter(cert.get()));
  info.is_ca = X509_check_ca(cert.get()) != 0;
  auto* names = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
    if (n->type == GEN_DNS) info.dns_names.push_back(Asn1Utf8(n->d.dNSName));
    if (n->type == GEN_IPADD) info.ip_addresses.push_back(IpText(n->d.iPAddress));
  }
  GENERAL_NAMES_free(names);
  return info;
}

Status VerifyCert(const std::string& ca_pem, const std::string& cert_pem) {
  ASSIGN_OR_RETURN(auto ca, ReadCert(ca_pem));
  ASSIGN_OR_RETURN(auto cert, ReadCert(cert_pem));
  StorePtr store(X509_STORE_new());
  StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!store || !ctx || X509_STORE_add_cert(store.get(), ca.get()) != 1 ||
      X509_STORE_CTX_init(ctx.get(), store.get(), cert.get(), nullptr) != 1) {
    return Internal(openssl::Error("setting up certificate verification"));
  }
  if (X509_verify_cert(ctx.get()) != 1) {
    return BadRequest(std::string("certificate does not verify: ") +
                      X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get())));
  }
  return Status::Ok();
}

Status CheckKeyMatches(const std::string& cert_pem, const std::string& key_pem) {
  ASSIGN_OR_RETURN(auto cert, ReadCert(cert_pem));
  ASSIGN_OR_RETURN(auto key, ReadKey(key_pem));
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    return BadRequest("the private key does not belong to the certificate");
  }
  return Status::Ok();
}

Status ReportExpiry(const std::string& name, const std::string& cert_file) {
  ASSIGN_OR_RETURN(auto pem, util::ReadFile(cert_file));
  return client::ReportCertificateExpiry(name, pem, cert_file);
}

}  // namespace kubepp::pki
