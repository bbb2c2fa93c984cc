#include "storage/http_client.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>
#include <mutex>
#include <random>
#include <thread>

#include <curl/curl.h>
#include <unistd.h>

namespace aqueducts::storage {
namespace {

// Idle easy handles; each keeps its connection cache, so connections are reused. A process
// forked from one that made requests inherits the pool: its handles' connections are the
// parent's sockets, which two processes must never share (their answers interleave), so the
// child forgets them without closing anything and opens its own.
class HandlePool {
 public:
  static HandlePool& Get() {
    static HandlePool* pool = new HandlePool();  // never destroyed: used until exit
    return *pool;
  }
  CURL* Acquire() {
    std::lock_guard<std::mutex> lock(mu_);
    if (pid_t pid = getpid(); pid != owner_) {
      idle_.clear();  // the parent's handles: leaked on purpose
      owner_ = pid;
    }
    if (idle_.empty()) {
      return curl_easy_init();
    }
    CURL* handle = idle_.back();
    idle_.pop_back();
    curl_easy_reset(handle);
    return handle;
  }
  void Release(CURL* handle) {
    std::lock_guard<std::mutex> lock(mu_);
    if (getpid() == owner_ && idle_.size() < 64) {
      idle_.push_back(handle);
    } else {
      curl_easy_cleanup(handle);
    }
  }

 private:
  HandlePool() { curl_global_init(CURL_GLOBAL_DEFAULT); }
  std::mutex mu_;
  pid_t owner_ = getpid();
  std::vector<CURL*> idle_;
};

struct Sink {
  const HttpRequest* request;
  HttpResponse* response;
  CURL* curl;
  bool overflow = false;
};

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  size_t n = size * count;
  // Only a success's body is the data asked for; an error's (a 503's XML, say) goes to `body`,
  // where the caller reads the store's error code, and never into the caller's range buffer.
  long status = 0;
  curl_easy_getinfo(sink->curl, CURLINFO_RESPONSE_CODE, &status);
  if (sink->request->out != nullptr && status >= 200 && status < 300) {
    uint64_t room = sink->request->out_capacity - sink->response->out_bytes;
    if (n > room) {
      sink->overflow = true;
      return 0;  // aborts the transfer: the server sent more than the range asked for
    }
    std::memcpy(sink->request->out + sink->response->out_bytes, data, n);
    sink->response->out_bytes += n;
  } else {
    sink->response->body.append(data, n);
  }
  return n;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  size_t n = size * count;
  std::string line(data, n);
  size_t colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::string value = line.substr(colon + 1);
    size_t begin = value.find_first_not_of(" \t");
    size_t end = value.find_last_not_of(" \t\r\n");
    value = begin == std::string::npos ? "" : value.substr(begin, end - begin + 1);
    sink->response->headers[name] = value;
  } else if (line.rfind("HTTP/", 0) == 0) {
    sink->response->headers.clear();  // a new response (after 100 Continue or a redirect)
  }
  return n;
}

bool Retryable(long status) {
  return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 ||
         status == 504;
}

}  // namespace

std::string HttpResponse::Header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

Result<HttpResponse> HttpSend(const HttpRequest& request) {
  HandlePool& pool = HandlePool::Get();
  CURL* curl = pool.Acquire();
  if (curl == nullptr) {
    return Status::IoError("cannot start an HTTP client (curl_easy_init failed)");
  }
  HttpResponse response;
  Sink sink{&request, &response, curl};
  curl_slist* headers = nullptr;
  bool has_content_type = false;
  for (const auto& [name, value] : request.headers) {
    headers = curl_slist_append(headers, (name + ": " + value).c_str());
    if (strcasecmp(name.c_str(), "content-type") == 0) {
      has_content_type = true;
    }
  }
  headers = curl_slist_append(headers, "Expect:");
  if (!has_content_type) {
    headers = curl_slist_append(headers, "Content-Type:");  // curl would add a form type
  }
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &sink);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 60L);
  if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (request.method == "GET") {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  } else {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    if (request.method == "PUT" || request.method == "POST") {
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(request.body.size()));
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data() ? request.body.data() : "");
    }
  }
  CURLcode code = curl_easy_perform(curl);
  if (code == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  }
  curl_slist_free_all(headers);
  pool.Release(curl);
  if (sink.overflow) {
    return Status::IoError("the server sent more bytes than requested for " + request.method);
  }
  if (code != CURLE_OK) {
    return Status::IoError(std::string("HTTP request failed: ") + curl_easy_strerror(code));
  }
  return response;
}

Result<HttpResponse> HttpSendWithRetry(const std::function<HttpRequest()>& make, int max_attempts) {
  thread_local std::mt19937 jitter(std::random_device{}());
  max_attempts = std::max(max_attempts, 1);
  Result<HttpResponse> result = Status::Internal("no attempt made");
  int64_t retry_after_ms = 0;  // what the previous answer asked for
  for (int attempt = 0; attempt < max_attempts; ++attempt) {
    if (attempt > 0) {
      int base_ms = 100 << std::min(attempt - 1, 10);
      std::uniform_int_distribution<int> spread(0, base_ms / 2);
      int64_t wait_ms = std::max<int64_t>(base_ms + spread(jitter), retry_after_ms);
      std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
    }
    HttpRequest request = make();
    result = HttpSend(request);
    if (result.ok()) {
      result->attempts = attempt + 1;
      if (!Retryable(result->status)) {
        return result;
      }
      retry_after_ms = 0;
      std::string after = result->Header("retry-after");
      if ((result->status == 429 || result->status == 503) && !after.empty() && after.size() <= 6 &&
          std::all_of(after.begin(), after.end(),
                      [](unsigned char c) { return std::isdigit(c) != 0; })) {
        retry_after_ms = std::min<int64_t>(std::stoll(after), kMaxRetryAfterSeconds) * 1000;
      }
    } else {
      retry_after_ms = 0;
    }
  }
  if (!result.ok() && max_attempts > 1) {
    return Status::IoError(result.status().message() + " (" + std::to_string(max_attempts) +
                           " attempts)");
  }
  return result;
}

}  // namespace aqueducts::storage
