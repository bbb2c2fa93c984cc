#pragma once

// Keeping credentials out of everything the program prints. RedactSecrets is the one rule;
// it is applied where every message is made: Status (errors), the runner's event emitter
// (progress and failure events, local and over SSE) and the executor's logger.

#include <string>
#include <string_view>

namespace aqueducts {

/// `text` with credentials replaced by "***":
/// - the password of a URL's user info: `s3://user:pw@bucket/x` -> `s3://user:***@bucket/x`;
/// - the value of a secret key of a connection string, wherever it appears and whatever the
///   braces around it (`PWD=`, `Password=`, keys containing "password", "secret" or "token",
///   case-insensitive; a value runs to `;`, a quote, a line end or, unless it is {braced}, `}`);
/// - every value registered with RegisterSecretsIn (e.g. a password a driver echoes alone).
std::string RedactSecrets(std::string text);

/// Remember the credentials `text` holds (found by the rules above) so RedactSecrets hides them
/// anywhere later in this process. Values shorter than 3 bytes are not remembered (hiding every
/// "a" would make messages unreadable). Thread-safe.
void RegisterSecretsIn(std::string_view text);

}  // namespace aqueducts
