// Names of the pipeline elements, used in errors, events and the canonical JSON.

#include <type_traits>

#include "aqueducts/model.h"

namespace aqueducts {
namespace {

template <typename T>
constexpr const char* TypeTag() {
  if constexpr (std::is_same_v<T, InMemorySource> || std::is_same_v<T, InMemoryDestination>) {
    return "in_memory";
  } else if constexpr (std::is_same_v<T, FileSource> || std::is_same_v<T, FileDestination>) {
    return "file";
  } else if constexpr (std::is_same_v<T, DirSource>) {
    return "directory";
  } else if constexpr (std::is_same_v<T, OdbcSource> || std::is_same_v<T, OdbcDestination>) {
    return "odbc";
  } else {
    static_assert(std::is_same_v<T, DeltaSource> || std::is_same_v<T, DeltaDestination>);
    return "delta";
  }
}

}  // namespace

const std::string& SourceName(const Source& source) {
  return std::visit([](const auto& s) -> const std::string& { return s.name; }, source);
}

const char* SourceTypeName(const Source& source) {
  return std::visit([](const auto& s) { return TypeTag<std::decay_t<decltype(s)>>(); }, source);
}

const std::string& DestinationName(const Destination& destination) {
  return std::visit([](const auto& d) -> const std::string& { return d.name; }, destination);
}

const char* DestinationTypeName(const Destination& destination) {
  return std::visit([](const auto& d) { return TypeTag<std::decay_t<decltype(d)>>(); },
                    destination);
}

}  // namespace aqueducts
