#pragma once

// Deletion vectors (Delta protocol "Deletion Vectors"): descriptor, Z85, the on-disk format.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "aqueducts/status.h"

namespace aqueducts::delta {

/// \brief The `deletionVector` descriptor of an add/remove action.
struct DeletionVectorDescriptor {
  std::string storage_type;  ///< "u" (relative uuid file), "p" (absolute path), "i" (inline)
  std::string path_or_inline_dv;
  std::optional<int32_t> offset;  ///< absent for inline
  int32_t size_in_bytes = 0;
  int64_t cardinality = 0;

  /// The unique id used to key files in log replay: storageType + pathOrInlineDv [+ "@" offset].
  std::string UniqueId() const;
};

/// Decode Z85 (ZeroMQ base-85); the input length must be a multiple of 5.
Result<std::string> Z85Decode(const std::string& text);

/// The file holding a DV of storage type "u" or "p", for a table at `table_root`.
Result<std::string> DeletionVectorFilePath(const std::string& table_root,
                                           const DeletionVectorDescriptor& dv);

/// Decode the deleted row indexes (sorted, 0-based within the data file).
Result<std::vector<uint64_t>> ReadDeletionVector(const std::string& table_root,
                                                 const DeletionVectorDescriptor& dv);

/// Decode a serialized bitmap: little-endian magic 1681511377 then a portable Roaring64Map.
Result<std::vector<uint64_t>> DecodeDeletionBitmap(const std::string& bytes);

}  // namespace aqueducts::delta
