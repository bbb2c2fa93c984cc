#pragma once

// Helpers shared by the store backends: dates in the formats the stores use, error answers.

#include <cstdint>
#include <ctime>
#include <string>

#include "aqueducts/status.h"

#include "storage/http_client.h"
#include "storage/object_store.h"

namespace aqueducts::storage {

/// "20240102T030405Z" (SigV4) for a Unix time.
std::string AmzDate(std::time_t when);
/// "Tue, 02 Jan 2024 03:04:05 GMT" (RFC 1123) for a Unix time.
std::string HttpDate(std::time_t when);
/// Seconds since the epoch from an RFC 1123 date or an ISO 8601 timestamp; 0 when unparsable.
int64_t ParseStoreTime(const std::string& text);
/// An ETag without its surrounding quotes.
std::string Unquote(const std::string& etag);

/// The metadata a HEAD answer carries (Content-Length, ETag, Last-Modified), same on every store.
ObjectMeta MetaOfHead(const std::string& key, const HttpResponse& response);

/// The Status for an unexpected answer: kNotFound for 404, kConflict for 409/412, kIoError
/// otherwise; the message names the operation, the URL and the store's own code and message
/// (read from an XML error body when there is one).
Status StoreError(const std::string& what, const std::string& url, const HttpResponse& response);

/// What a create-only put answered with 409 or 412 (the key exists) means. Answered at the
/// first attempt: someone else's object, kConflict. After retries (`response.attempts` > 1), an
/// earlier attempt may have created the object although its answer was lost or an error, so the
/// object is read back: the same bytes as `data` are our own write (OK); other bytes are someone
/// else's (kConflict); a failed read is that error (the outcome is unknown, never a success).
Status ConflictOrOwnWrite(ObjectStore& store, const std::string& key, std::string_view data,
                          const HttpResponse& response);

}  // namespace aqueducts::storage
