#pragma once

#include <memory>
#include <string>
#include <utility>
#include <variant>

namespace aqueducts {

/// The kind of a failure. Stable: the CLI maps it to an exit code, the executor to an event.
enum class StatusCode {
  kOk = 0,
  kInvalidArgument,  ///< bad usage or bad input value (CLI exit 2 when from flags)
  kParseError,       ///< a pipeline file that is not valid YAML/JSON/TOML or not a valid pipeline
  kTemplateError,    ///< missing template parameters
  kSqlError,         ///< SQL that does not parse or plan
  kNotFound,         ///< a file, table or object that does not exist
  kIoError,          ///< reading or writing failed
  kExecutionError,   ///< a query failed while running
  kUnsupported,      ///< a feature, format or protocol version we do not implement
  kConflict,         ///< a concurrent writer won (Delta commit conflict)
  kCancelled,        ///< the run was cancelled
  kOutOfMemory,      ///< the memory limit was exceeded
  kInternal,         ///< a bug
};

/// \brief The result of an operation that can fail: OK, or a code, a catalogue id and a message.
///
/// OK is a null pointer, so passing an OK status costs nothing. The catalogue id follows spec
/// Appendix B (e.g. "aqueducts::stage::execution_error") and may be empty.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message, std::string id = {});

  static Status OK() { return Status(); }
  static Status InvalidArgument(std::string msg, std::string id = {});
  static Status ParseError(std::string msg, std::string id = {});
  static Status SqlError(std::string msg, std::string id = {});
  static Status NotFound(std::string msg, std::string id = {});
  static Status IoError(std::string msg, std::string id = {});
  static Status ExecutionError(std::string msg, std::string id = {});
  static Status Unsupported(std::string msg, std::string id = {});
  static Status Conflict(std::string msg, std::string id = {});
  static Status Cancelled(std::string msg = "execution cancelled");
  static Status Internal(std::string msg);

  bool ok() const { return state_ == nullptr; }
  StatusCode code() const { return state_ ? state_->code : StatusCode::kOk; }
  /// The message; empty when OK.
  const std::string& message() const;
  /// The catalogue id; may be empty.
  const std::string& id() const;
  /// "<message>" for OK-less statuses, "OK" otherwise.
  std::string ToString() const;

  /// Return a copy whose message is "<prefix><message>"; keeps code, and sets id if given.
  Status WithPrefix(const std::string& prefix, std::string id = {}) const;

 private:
  struct State {
    StatusCode code;
    std::string message;
    std::string id;
  };
  std::shared_ptr<const State> state_;
};

/// The name of a status code, e.g. "ParseError".
const char* StatusCodeName(StatusCode code);

/// \brief A value or the Status explaining why there is none (shaped like std::expected).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT: implicit by design
    if (std::get<Status>(v_).ok()) {
      v_ = Status::Internal("Result constructed from an OK status");
    }
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace aqueducts

#define AQ_CONCAT_INNER_(a, b) a##b
#define AQ_CONCAT_(a, b) AQ_CONCAT_INNER_(a, b)

/// Return the status from the enclosing function if it is not OK.
#define AQ_RETURN_IF_ERROR(expr)             \
  do {                                       \
    ::aqueducts::Status aq_status_ = (expr); \
    if (!aq_status_.ok())                    \
      return aq_status_;                     \
  } while (false)

#define AQ_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                              \
  if (!tmp.ok())                                   \
    return tmp.status();                           \
  lhs = std::move(tmp).value()

/// Evaluate a Result; on error return its status, else move its value into `lhs`.
#define AQ_ASSIGN_OR_RETURN(lhs, rexpr) \
  AQ_ASSIGN_OR_RETURN_IMPL_(AQ_CONCAT_(aq_result_, __LINE__), lhs, rexpr)
