#include "server/log.h"

#include <nlohmann/json.hpp>

#include "server/store.h"

namespace aqueducts::server {

void Log::Write(const char* level, const std::string& msg,
                const std::map<std::string, std::string>& fields) {
  nlohmann::json line{{"ts", NowUtc()}, {"level", level}, {"msg", msg}};
  line["fields"] = nlohmann::json::object();
  for (const auto& [k, v] : fields) {
    line["fields"][k] = v;
  }
  std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  std::lock_guard<std::mutex> lock(mu_);
  std::fwrite(text.data(), 1, text.size(), out_);
  std::fflush(out_);
}

}  // namespace aqueducts::server
