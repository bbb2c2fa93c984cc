#include "aqueducts/status.h"

#include "common/redact.h"

namespace aqueducts {

Status::Status(StatusCode code, std::string message, std::string id) {
  if (code != StatusCode::kOk) {
    // Every error passes the redaction rule: no credential in any message (common/redact.h).
    state_ = std::make_shared<State>(State{code, RedactSecrets(std::move(message)), std::move(id)});
  }
}

Status Status::InvalidArgument(std::string msg, std::string id) {
  return Status(StatusCode::kInvalidArgument, std::move(msg), std::move(id));
}
Status Status::ParseError(std::string msg, std::string id) {
  return Status(StatusCode::kParseError, std::move(msg), std::move(id));
}
Status Status::SqlError(std::string msg, std::string id) {
  return Status(StatusCode::kSqlError, std::move(msg), std::move(id));
}
Status Status::NotFound(std::string msg, std::string id) {
  return Status(StatusCode::kNotFound, std::move(msg), std::move(id));
}
Status Status::IoError(std::string msg, std::string id) {
  return Status(StatusCode::kIoError, std::move(msg), std::move(id));
}
Status Status::ExecutionError(std::string msg, std::string id) {
  return Status(StatusCode::kExecutionError, std::move(msg), std::move(id));
}
Status Status::Unsupported(std::string msg, std::string id) {
  return Status(StatusCode::kUnsupported, std::move(msg), std::move(id));
}
Status Status::Conflict(std::string msg, std::string id) {
  return Status(StatusCode::kConflict, std::move(msg), std::move(id));
}
Status Status::Cancelled(std::string msg) {
  return Status(StatusCode::kCancelled, std::move(msg));
}
Status Status::Internal(std::string msg) {
  return Status(StatusCode::kInternal, std::move(msg));
}

const std::string& Status::message() const {
  static const std::string kEmpty;
  return state_ ? state_->message : kEmpty;
}

const std::string& Status::id() const {
  static const std::string kEmpty;
  return state_ ? state_->id : kEmpty;
}

std::string Status::ToString() const {
  return ok() ? "OK" : state_->message;
}

Status Status::WithPrefix(const std::string& prefix, std::string id) const {
  if (ok()) {
    return *this;
  }
  return Status(state_->code, prefix + state_->message, id.empty() ? state_->id : std::move(id));
}

const char* StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "OK";
    case StatusCode::kInvalidArgument:
      return "InvalidArgument";
    case StatusCode::kParseError:
      return "ParseError";
    case StatusCode::kTemplateError:
      return "TemplateError";
    case StatusCode::kSqlError:
      return "SqlError";
    case StatusCode::kNotFound:
      return "NotFound";
    case StatusCode::kIoError:
      return "IoError";
    case StatusCode::kExecutionError:
      return "ExecutionError";
    case StatusCode::kUnsupported:
      return "Unsupported";
    case StatusCode::kConflict:
      return "Conflict";
    case StatusCode::kCancelled:
      return "Cancelled";
    case StatusCode::kOutOfMemory:
      return "OutOfMemory";
    case StatusCode::kInternal:
      return "Internal";
  }
  return "Unknown";
}

}  // namespace aqueducts
