#include "connector/connector.h"

namespace aqueducts::connector {

Status RunContext::CheckCancelled(const std::string& what) const {
  if (Cancelled()) {
    return Status::Cancelled(what + " cancelled");
  }
  return Status::OK();
}

void RunContext::Log(LogLevel level, const std::string& message) const {
  if (sink_ == nullptr) {
    return;
  }
  ProgressEvent event;
  event.type = ProgressEvent::Type::kLog;
  event.level = level;
  event.message = message;
  sink_->OnEvent(event);
}

Status RunContext::UseStore(const Location& location, const StorageConfig& config) const {
  if (location.IsLocal()) {
    return Status::OK();
  }
  return session_.RegisterObjectStore(location.url, config);
}

Status ErrorLabel::Apply(const Status& status, const std::string& name) const {
  return status.WithPrefix(before + name + after, id);
}

void Registry::AddSource(const std::string& tag, std::unique_ptr<SourceKind> kind,
                         ErrorLabel on_register) {
  sources_[tag] = SourceEntry{std::move(kind), std::move(on_register)};
}

void Registry::AddDestination(const std::string& tag, std::unique_ptr<DestinationKind> kind,
                              ErrorLabel on_prepare, ErrorLabel on_write) {
  destinations_[tag] =
      DestinationEntry{std::move(kind), std::move(on_prepare), std::move(on_write)};
}

const Registry::SourceEntry* Registry::FindSource(const std::string& tag) const {
  auto it = sources_.find(tag);
  return it == sources_.end() ? nullptr : &it->second;
}

const Registry::DestinationEntry* Registry::FindDestination(const std::string& tag) const {
  auto it = destinations_.find(tag);
  return it == destinations_.end() ? nullptr : &it->second;
}

}  // namespace aqueducts::connector
