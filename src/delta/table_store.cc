#include "delta/table_store.h"

#include <algorithm>
#include <cctype>

#include "common/uuid.h"
#include "storage/object_url.h"
#include "storage/store_options.h"
#include "storage/store_registry.h"

namespace aqueducts::delta {
namespace {

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

const char kLockingAdvice[] =
    ": a DynamoDB locking provider is not supported. Delta commits on object stores are "
    "create-only puts (If-None-Match: * on S3), which make concurrent writers safe without a "
    "lock; remove it";

}  // namespace

Status RefuseLockingProvider(const std::string& url, const StorageConfig& config) {
  for (const auto& [key, value] : config) {
    std::string lower = Lower(key);
    if (lower == "aws_s3_locking_provider" || lower == "locking_provider") {
      return Status::Unsupported("location " + storage::RedactUrl(url) + ": storage_config key '" +
                                 key + "'" + kLockingAdvice);
    }
  }
  return Status::OK();
}

Result<std::unique_ptr<TableStoreScope>> TableStoreScope::Open(const std::string& root,
                                                               const StorageConfig& config) {
  auto scope = std::unique_ptr<TableStoreScope>(new TableStoreScope());
  if (!storage::IsObjectStoreUrl(root)) {
    return scope;
  }
  AQ_RETURN_IF_ERROR(RefuseLockingProvider(root, config));
  auto registry = std::make_shared<storage::StoreRegistry>();
  AQ_RETURN_IF_ERROR(registry->Register(root, config));
  scope->mount_ = std::make_unique<storage::ScopedObjectStores>(root, std::move(registry));
  return scope;
}

Status UseTableStore(engine::Session& session, const Location& location,
                     const StorageConfig& config) {
  if (!storage::IsObjectStoreUrl(location.url)) {
    return Status::OK();
  }
  AQ_RETURN_IF_ERROR(RefuseLockingProvider(location.url, config));
  return session.RegisterObjectStore(location.url, config);
}

Status CheckCommitSafety(const std::string& root, const StorageConfig& config) {
  if (!storage::IsObjectStoreUrl(root)) {
    return Status::OK();
  }
  AQ_ASSIGN_OR_RETURN(storage::ObjectUrl url, storage::ParseObjectUrl(root));
  bool allow_unsafe = false;
  if (url.kind == storage::StoreKind::kS3) {
    if (auto provider = storage::ProcessEnv()("AWS_S3_LOCKING_PROVIDER");
        provider && !provider->empty()) {
      return Status::Unsupported("Delta table " + storage::RedactUrl(root) +
                                 ": the environment sets AWS_S3_LOCKING_PROVIDER" + kLockingAdvice);
    }
    AQ_ASSIGN_OR_RETURN(storage::S3Options options,
                        storage::ResolveS3Options(config, storage::ProcessEnv()));
    allow_unsafe = options.allow_unsafe_rename;
  }
  std::string probe = root + "/_delta_log/_aq_put_if_absent_probe_" + NewUuid();
  AQ_ASSIGN_OR_RETURN(storage::ResolvedObject where, storage::StoreForPath(probe));
  AQ_RETURN_IF_ERROR(where.store->PutIfAbsent(where.key, "probe"));
  Status again = where.store->PutIfAbsent(where.key, "probe");
  Status removed = where.store->Delete(where.key);
  if (again.code() == StatusCode::kConflict) {
    return removed;
  }
  AQ_RETURN_IF_ERROR(again);
  if (allow_unsafe) {
    return removed;
  }
  return Status::Unsupported(
      "Delta table " + storage::RedactUrl(root) +
      ": the store does not honour create-only writes (a second put-if-absent of one key "
      "succeeded), so concurrent commits could overwrite each other. Use a store that does, or "
      "accept the risk with aws_s3_allow_unsafe_rename: true (AWS_S3_ALLOW_UNSAFE_RENAME=true) "
      "when only one writer ever commits to this table");
}

}  // namespace aqueducts::delta
