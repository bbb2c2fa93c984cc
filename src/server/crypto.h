#pragma once

#include <string>

#include "aqueducts/status.h"

namespace aqueducts::server {

/// PBKDF2-HMAC-SHA256 iterations of newly hashed passwords.
inline constexpr int kPbkdf2Iterations = 210000;

/// Hash `password` with PBKDF2-HMAC-SHA256, a fresh random 16-byte salt and kPbkdf2Iterations.
/// The result is self-describing: "pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>".
Result<std::string> HashPassword(const std::string& password);

/// True when `password` matches `encoded` (a HashPassword result); the final comparison takes
/// the same time wherever the hashes differ. A malformed `encoded` never matches.
bool VerifyPassword(const std::string& password, const std::string& encoded);

/// `bytes` bytes from OpenSSL's CSPRNG as lowercase hex; kInternal when the RNG fails.
Result<std::string> RandomHex(size_t bytes);

/// The SHA-256 of `data` as lowercase hex (API tokens are stored this way: they carry 256 bits
/// of randomness, so a slow KDF adds nothing).
std::string Sha256Hex(const std::string& data);

/// Equality of two strings in time independent of the position of the first difference.
bool ConstantTimeEquals(const std::string& a, const std::string& b);

}  // namespace aqueducts::server
