#pragma once

// A small HTTP client over libcurl for the object stores: pooled handles (connections are
// reused), no exceptions, and a retry loop for throttling and server errors.

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aqueducts/status.h"

namespace aqueducts::storage {

struct HttpRequest {
  std::string method = "GET";  ///< GET, HEAD, PUT, POST or DELETE
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string_view body;  ///< sent as is (with Content-Length) for PUT and POST
  char* out = nullptr;    ///< when set, the response body goes here instead of `body`
  uint64_t out_capacity = 0;
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  ///< names in lower case
  std::string body;
  uint64_t out_bytes = 0;  ///< bytes written to HttpRequest::out
  /// How many times HttpSendWithRetry sent the request to get this answer (1: no retry). More
  /// than one means an earlier attempt may have been applied by the server although its answer
  /// was an error (a 5xx, or a connection lost before the answer).
  int attempts = 1;

  /// The value of a header (name in lower case), empty when absent.
  std::string Header(const std::string& name) const;
};

/// Send one request. A transport failure (connection refused, timeout, TLS) is kIoError; any
/// HTTP status is a successful result for the caller to judge. Thread-safe.
Result<HttpResponse> HttpSend(const HttpRequest& request);

/// The attempts a request gets by default: the first and four retries.
constexpr int kDefaultMaxAttempts = 5;
/// The longest wait a Retry-After header may impose before the next attempt.
constexpr int kMaxRetryAfterSeconds = 60;

/// Send the request `make` builds (again for each attempt, so signatures are fresh) until it
/// is answered with something other than a transport error, 408, 429, 500, 502, 503 or 504, or
/// `max_attempts` are spent; waits 100 ms, 200 ms, 400 ms... (with jitter) in between, or, after
/// a 429 or 503 with `Retry-After: <seconds>`, that long if it is longer (at most
/// kMaxRetryAfterSeconds). The answer's `attempts` says how many were made; a transport error
/// that persists is kIoError saying how many attempts failed.
Result<HttpResponse> HttpSendWithRetry(const std::function<HttpRequest()>& make,
                                       int max_attempts = kDefaultMaxAttempts);

}  // namespace aqueducts::storage
