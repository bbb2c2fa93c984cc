#pragma once

// The hashing and encoding that request signing needs (OpenSSL underneath).

#include <string>
#include <string_view>

#include "aqueducts/status.h"

namespace aqueducts::storage {

/// Lower-case hex of the bytes.
std::string HexEncode(std::string_view bytes);
/// SHA-256 of `data`, raw (32 bytes).
std::string Sha256(std::string_view data);
/// HMAC-SHA-256 of `data` under `key`, raw (32 bytes).
std::string HmacSha256(std::string_view key, std::string_view data);
/// Standard base64 with padding.
std::string Base64Encode(std::string_view bytes);
/// Base64 with the URL-safe alphabet and no padding (RFC 4648 §5), as JSON Web Tokens use.
std::string Base64UrlEncode(std::string_view bytes);
/// An RSASSA-PKCS1-v1_5 SHA-256 signature ("RS256") of `data` with a PEM private key (PKCS#8
/// or PKCS#1). kInvalidArgument when the key cannot be read; the message never holds the key.
Result<std::string> RsaSha256Sign(std::string_view pem_private_key, std::string_view data);
/// Decode standard base64; false on malformed input.
bool Base64Decode(std::string_view text, std::string* out);
/// Percent-encode every byte but the RFC 3986 unreserved ones (A-Z a-z 0-9 - _ . ~); '/' is kept
/// when `keep_slash`.
std::string UriEncode(std::string_view text, bool keep_slash);

}  // namespace aqueducts::storage
