// Owning pointers for OpenSSL objects and the text of OpenSSL's last error.
// Include only from .cc files that already use OpenSSL: this pulls in its headers.
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <memory>
#include <string>

namespace kubepp::openssl {

// Frees with OpenSSL's own free function; a stateless deleter, so the pointers are
// the size of a raw pointer and need no deleter argument.
template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
template <typename T, void (*Free)(T*)>
using Ptr = std::unique_ptr<T, Deleter<T, Free>>;

using BioPtr = Ptr<BIO, BIO_free_all>;
using BnPtr = Ptr<BIGNUM, BN_free>;
using CipherCtxPtr = Ptr<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free>;
using EcdsaSigPtr = Ptr<ECDSA_SIG, ECDSA_SIG_free>;
using ExtPtr = Ptr<X509_EXTENSION, X509_EXTENSION_free>;
using KeyPtr = Ptr<EVP_PKEY, EVP_PKEY_free>;
using MdCtxPtr = Ptr<EVP_MD_CTX, EVP_MD_CTX_free>;
using StoreCtxPtr = Ptr<X509_STORE_CTX, X509_STORE_CTX_free>;
using StorePtr = Ptr<X509_STORE, X509_STORE_free>;
using X509Ptr = Ptr<X509, X509_free>;

// "what: <reason>" for the oldest error on this thread's OpenSSL error queue, or just
// `what` when the queue is empty. Clears the queue so that a later call does not
// report a stale error.
inline std::string Error(const std::string& what) {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return what;
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return what + ": " + buf;
}

}  // namespace kubepp::openssl
