#pragma once

// `aqueducts-server serve --tls-cert FILE --tls-key FILE`: the files are checked before the
// server starts, so a wrong file is an error naming the flag and the file instead of a server
// that fails every handshake.

#include <string>

#include "aqueducts/status.h"

namespace aqueducts::server {

/// OK when `cert_path` holds a PEM certificate (a chain may follow it) and `key_path` an
/// unencrypted PEM private key of that certificate. Otherwise kInvalidArgument naming the flag
/// (--tls-cert / --tls-key) and the file: missing or unreadable, not PEM of the expected kind,
/// an encrypted key, or a key that does not belong to the certificate.
Status CheckTlsFiles(const std::string& cert_path, const std::string& key_path);

}  // namespace aqueducts::server
