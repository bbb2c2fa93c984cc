#include "server/crypto.h"

#include <vector>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

namespace aqueducts::server {
namespace {

constexpr size_t kSaltBytes = 16;
constexpr size_t kHashBytes = 32;

std::string ToHex(const unsigned char* data, size_t size) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    out.push_back(kDigits[data[i] >> 4]);
    out.push_back(kDigits[data[i] & 0xf]);
  }
  return out;
}

bool FromHex(const std::string& hex, std::vector<unsigned char>* out) {
  if (hex.size() % 2 != 0) {
    return false;
  }
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') {
      return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
      return c - 'a' + 10;
    }
    return -1;
  };
  out->clear();
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = nibble(hex[i]);
    int lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) {
      return false;
    }
    out->push_back(static_cast<unsigned char>(hi << 4 | lo));
  }
  return true;
}

bool Derive(const std::string& password, const std::vector<unsigned char>& salt, int iterations,
            unsigned char* out) {
  return PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), salt.data(),
                           static_cast<int>(salt.size()), iterations, EVP_sha256(),
                           static_cast<int>(kHashBytes), out) == 1;
}

}  // namespace

Result<std::string> HashPassword(const std::string& password) {
  std::vector<unsigned char> salt(kSaltBytes);
  if (RAND_bytes(salt.data(), static_cast<int>(salt.size())) != 1) {
    return Status::Internal("OpenSSL's random generator failed");
  }
  unsigned char hash[kHashBytes];
  if (!Derive(password, salt, kPbkdf2Iterations, hash)) {
    return Status::Internal("PBKDF2 failed");
  }
  return "pbkdf2-sha256$" + std::to_string(kPbkdf2Iterations) + "$" +
         ToHex(salt.data(), salt.size()) + "$" + ToHex(hash, kHashBytes);
}

bool VerifyPassword(const std::string& password, const std::string& encoded) {
  const std::string prefix = "pbkdf2-sha256$";
  if (encoded.compare(0, prefix.size(), prefix) != 0) {
    return false;
  }
  size_t a = prefix.size();
  size_t b = encoded.find('$', a);
  if (b == std::string::npos) {
    return false;
  }
  size_t c = encoded.find('$', b + 1);
  if (c == std::string::npos) {
    return false;
  }
  int iterations = 0;
  try {
    iterations = std::stoi(encoded.substr(a, b - a));
  } catch (...) {
    return false;
  }
  std::vector<unsigned char> salt;
  std::vector<unsigned char> expected;
  if (iterations < 1 || !FromHex(encoded.substr(b + 1, c - b - 1), &salt) ||
      !FromHex(encoded.substr(c + 1), &expected) || expected.size() != kHashBytes) {
    return false;
  }
  unsigned char hash[kHashBytes];
  if (!Derive(password, salt, iterations, hash)) {
    return false;
  }
  return CRYPTO_memcmp(hash, expected.data(), kHashBytes) == 0;
}

Result<std::string> RandomHex(size_t bytes) {
  std::vector<unsigned char> buf(bytes);
  if (RAND_bytes(buf.data(), static_cast<int>(buf.size())) != 1) {
    return Status::Internal("OpenSSL's random generator failed");
  }
  return ToHex(buf.data(), buf.size());
}

std::string Sha256Hex(const std::string& data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return ToHex(digest, sizeof(digest));
}

bool ConstantTimeEquals(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) {
    return false;
  }
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace aqueducts::server
