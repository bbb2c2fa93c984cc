#pragma once

#include <cstddef>
#include <string>

namespace aqueducts::server {

/// \brief One file of the web UI, embedded in the binary at build time (web/embed.cmake).
struct WebAsset {
  const char* path;          ///< URL path, e.g. "/ui/main.js"
  const char* content_type;  ///< e.g. "text/javascript; charset=utf-8"
  const unsigned char* data;
  size_t size;
};

/// The embedded asset served at `path`, or nullptr.
const WebAsset* FindWebAsset(const std::string& path);

}  // namespace aqueducts::server
