#pragma once

// Keeping passwords out of messages: a connection string's secrets never reach a log line,
// an error or a progress event.

#include <string>

namespace aqueducts::odbc {

/// The connection string with the value of every secret attribute (PWD, Password, and any
/// key containing "password", "secret" or "token"; case-insensitive, {braced} values included)
/// replaced by "***". Example: "Driver={PG};UID=u;PWD=s3;" -> "Driver={PG};UID=u;PWD=***;".
std::string RedactConnectionString(const std::string& connection_string);

/// `text` with every occurrence of a secret value of `connection_string` replaced by "***"
/// (for driver messages that might echo the password).
std::string RedactSecrets(std::string text, const std::string& connection_string);

}  // namespace aqueducts::odbc
