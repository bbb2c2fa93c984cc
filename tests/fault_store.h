#pragma once

// Fault injection through the storage seam (test binaries only): a store that wraps another one
// and asks a hook before each operation. The hook may fail the operation (its Status is
// returned, the wrapped store is not called), let it through (OK), or end the process to
// simulate a crash at that exact point. Mount it with storage::ScopedMount over a test
// directory, wrapping storage::LocalFileSystem(), to fault the code under test.

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "storage/object_store.h"

namespace aqueducts::testing {

enum class StoreOp {
  kHead,
  kGet,
  kPut,
  kPutIfAbsent,
  kUpload,
  kList,
  kDelete,
  kRename,
  kMkdir,
  kCopy
};

class FaultStore : public storage::ObjectStore {
 public:
  using Hook = std::function<Status(StoreOp op, const std::string& key)>;

  FaultStore(std::shared_ptr<storage::ObjectStore> inner, Hook hook)
      : inner_(std::move(inner)), hook_(std::move(hook)) {}

  std::string UrlOf(const std::string& key) const override { return inner_->UrlOf(key); }
  Result<storage::ObjectMeta> Head(const std::string& key) override {
    AQ_RETURN_IF_ERROR(hook_(StoreOp::kHead, key));
    return inner_->Head(key);
  }
  Result<uint64_t> GetRange(const std::string& key, uint64_t offset, uint64_t length,
                            char* out) override {
    AQ_RETURN_IF_ERROR(hook_(StoreOp::kGet, key));
    return inner_->GetRange(key, offset, length, out);
  }
  Result<std::string> Get(const std::string& key) override {
    AQ_RETURN_IF_ERROR(hook_(StoreOp::kGet, key));
    return inner_->Get(key);
  }
  Status Put(const std::string& key, std::string_view data) override {
    AQ_RETURN_IF_ERROR(hook_(StoreOp::kPut, key));
    return inner_->Put(key, data);
  }
  Status PutIfAbsent(const std::string& key, std::string_view data) override {
    AQ_RETURN_IF_ERROR(hook_(StoreOp::kPutIfAbsent, key));
    return inner_->PutIfAbsent(key, data);
  }
  Result<std::unique_ptr<storage::MultipartUpload>> StartUpload(const std::string& key) override {
    AQ_RETURN_IF_ERROR(hook_(StoreOp::kUpload, key));
    return inner_->StartUpload(key);
  }
  uint64_t MinPartSize() const override { return inner_->MinPartSize(); }
  Result<storage::Listing> List(const std::string& prefix, const std::string& delimiter) override {
    AQ_RETURN_IF_ERROR(hook_(StoreOp::kList, prefix));
    return inner_->List(prefix, delimiter);
  }
  Status Delete(const std::string& key) override {
    AQ_RETURN_IF_ERROR(hook_(StoreOp::kDelete, key));
    return inner_->Delete(key);
  }
  Status Rename(const std::string& from, const std::string& to) override {
    AQ_RETURN_IF_ERROR(hook_(StoreOp::kRename, to));
    return inner_->Rename(from, to);
  }
  Status Copy(const std::string& from, const std::string& to, uint64_t size) override {
    AQ_RETURN_IF_ERROR(hook_(StoreOp::kCopy, to));
    return inner_->Copy(from, to, size);
  }
  Status DeleteAll(const std::string& prefix) override {
    AQ_RETURN_IF_ERROR(hook_(StoreOp::kDelete, prefix));
    return inner_->DeleteAll(prefix);
  }
  Status MakeDirectories(const std::string& key) override {
    AQ_RETURN_IF_ERROR(hook_(StoreOp::kMkdir, key));
    return inner_->MakeDirectories(key);
  }

 private:
  std::shared_ptr<storage::ObjectStore> inner_;
  Hook hook_;
};

}  // namespace aqueducts::testing
