#include "server/tls.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

namespace aqueducts::server {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};

// "--tls-cert '/etc/x.pem'"
std::string Named(const char* flag, const std::string& path) {
  return std::string(flag) + " '" + path + "'";
}

// The whole file, or an error naming the flag and the file.
Result<std::string> ReadPem(const char* flag, const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return Status::InvalidArgument(Named(flag, path) + " is a directory, not a PEM file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::InvalidArgument("Cannot read " + Named(flag, path) + ": " +
                                   std::strerror(errno));
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) {
    return Status::InvalidArgument("Cannot read " + Named(flag, path));
  }
  return text;
}

// Never asks for a passphrase: an encrypted key fails instead of prompting on a terminal.
int NoPassphrase(char*, int, int, void*) {
  return 0;
}

}  // namespace

Status CheckTlsFiles(const std::string& cert_path, const std::string& key_path) {
  AQ_ASSIGN_OR_RETURN(std::string cert_pem, ReadPem("--tls-cert", cert_path));
  AQ_ASSIGN_OR_RETURN(std::string key_pem, ReadPem("--tls-key", key_path));

  std::unique_ptr<BIO, BioFree> cert_bio(
      BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size())));
  std::unique_ptr<X509, X509Free> cert(
      PEM_read_bio_X509(cert_bio.get(), nullptr, NoPassphrase, nullptr));
  ERR_clear_error();
  if (!cert) {
    return Status::InvalidArgument(Named("--tls-cert", cert_path) +
                                   " holds no PEM certificate (expected a '-----BEGIN "
                                   "CERTIFICATE-----' block, the server's certificate first)");
  }
  std::unique_ptr<BIO, BioFree> key_bio(
      BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())));
  std::unique_ptr<EVP_PKEY, KeyFree> key(
      PEM_read_bio_PrivateKey(key_bio.get(), nullptr, NoPassphrase, nullptr));
  ERR_clear_error();
  if (!key) {
    bool encrypted = key_pem.find("ENCRYPTED") != std::string::npos;
    return Status::InvalidArgument(
        Named("--tls-key", key_path) +
        (encrypted ? " holds an encrypted private key: the server cannot ask for a passphrase; "
                     "decrypt it (openssl pkey -in KEY -out PLAIN.pem)"
                   : " holds no PEM private key (expected a '-----BEGIN PRIVATE KEY-----' "
                     "block)"));
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    return Status::InvalidArgument(Named("--tls-key", key_path) +
                                   " is not the private key of the certificate in " +
                                   Named("--tls-cert", cert_path));
  }
  return Status::OK();
}

}  // namespace aqueducts::server
