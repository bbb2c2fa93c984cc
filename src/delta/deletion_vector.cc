#include "delta/deletion_vector.h"

#include <cstdio>
#include <cstring>

#include <roaring/roaring64map.hh>

#include "delta/util.h"

namespace aqueducts::delta {
namespace {

constexpr uint32_t kBitmapMagic = 1681511377;
constexpr const char* kZ85Alphabet =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

std::string UuidText(const std::string& bytes) {
  std::string out;
  char buf[4];
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) {
      out.push_back('-');
    }
    std::snprintf(buf, sizeof(buf), "%02x", static_cast<unsigned char>(bytes[i]));
    out += buf;
  }
  return out;
}

}  // namespace

std::string DeletionVectorDescriptor::UniqueId() const {
  std::string id = storage_type + path_or_inline_dv;
  if (offset) {
    id += "@" + std::to_string(*offset);
  }
  return id;
}

Result<std::string> Z85Decode(const std::string& text) {
  if (text.size() % 5 != 0) {
    return Status::InvalidArgument("Z85 text length " + std::to_string(text.size()) +
                                   " is not a multiple of 5");
  }
  int8_t decode[256];
  std::memset(decode, -1, sizeof(decode));
  for (int i = 0; i < 85; ++i) {
    decode[static_cast<unsigned char>(kZ85Alphabet[i])] = int8_t(i);
  }
  std::string out;
  out.reserve(text.size() / 5 * 4);
  for (size_t i = 0; i < text.size(); i += 5) {
    uint64_t value = 0;
    for (size_t j = 0; j < 5; ++j) {
      int8_t d = decode[static_cast<unsigned char>(text[i + j])];
      if (d < 0) {
        return Status::InvalidArgument("invalid Z85 character in '" + text + "'");
      }
      value = value * 85 + uint64_t(d);
    }
    if (value > 0xFFFFFFFFULL) {
      return Status::InvalidArgument("invalid Z85 block in '" + text + "'");
    }
    for (int s = 24; s >= 0; s -= 8) {
      out.push_back(static_cast<char>((value >> s) & 0xFF));
    }
  }
  return out;
}

Result<std::string> DeletionVectorFilePath(const std::string& table_root,
                                           const DeletionVectorDescriptor& dv) {
  if (dv.storage_type == "p") {
    std::string p = dv.path_or_inline_dv;
    if (p.rfind("file://", 0) == 0) {
      p = p.substr(7);
    } else if (p.rfind("file:", 0) == 0) {
      p = p.substr(5);
    }
    return PercentDecode(p);
  }
  if (dv.storage_type != "u") {
    return Status::Unsupported("unsupported deletion vector storage type '" + dv.storage_type +
                               "'");
  }
  const std::string& s = dv.path_or_inline_dv;
  if (s.size() < 20) {
    return Status::InvalidArgument("deletion vector id '" + s + "' is too short");
  }
  std::string prefix = s.substr(0, s.size() - 20);
  AQ_ASSIGN_OR_RETURN(std::string uuid, Z85Decode(s.substr(s.size() - 20)));
  std::string file = "deletion_vector_" + UuidText(uuid) + ".bin";
  return table_root + "/" + (prefix.empty() ? "" : prefix + "/") + file;
}

Result<std::vector<uint64_t>> DecodeDeletionBitmap(const std::string& bytes) {
  if (bytes.size() < 12) {
    return Status::InvalidArgument("deletion vector bitmap is truncated");
  }
  uint32_t magic = uint32_t(static_cast<unsigned char>(bytes[0])) |
                   uint32_t(static_cast<unsigned char>(bytes[1])) << 8 |
                   uint32_t(static_cast<unsigned char>(bytes[2])) << 16 |
                   uint32_t(static_cast<unsigned char>(bytes[3])) << 24;
  if (magic != kBitmapMagic) {
    return Status::InvalidArgument("deletion vector has a bad magic number " +
                                   std::to_string(magic));
  }
  std::vector<uint64_t> rows;
  try {  // CRoaring reports malformed input by throwing.
    Roaring64Map map = Roaring64Map::readSafe(bytes.data() + 4, bytes.size() - 4);
    rows.reserve(map.cardinality());
    for (auto it = map.begin(); it != map.end(); ++it) {
      rows.push_back(*it);
    }
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("cannot decode deletion vector bitmap: ") +
                                   e.what());
  }
  return rows;
}

Result<std::vector<uint64_t>> ReadDeletionVector(const std::string& table_root,
                                                 const DeletionVectorDescriptor& dv) {
  if (dv.storage_type == "i") {
    AQ_ASSIGN_OR_RETURN(std::string raw, Z85Decode(dv.path_or_inline_dv));
    if (dv.size_in_bytes > 0 && size_t(dv.size_in_bytes) <= raw.size()) {
      raw.resize(dv.size_in_bytes);
    }
    return DecodeDeletionBitmap(raw);
  }
  AQ_ASSIGN_OR_RETURN(std::string path, DeletionVectorFilePath(table_root, dv));
  auto content = ReadWholeFile(path);
  if (!content.ok()) {
    return Status::NotFound("deletion vector file '" + path +
                            "' is missing: " + content.status().message());
  }
  const std::string& data = *content;
  size_t offset = size_t(dv.offset.value_or(1));
  if (offset + 4 > data.size()) {
    return Status::InvalidArgument("deletion vector offset " + std::to_string(offset) +
                                   " is beyond the end of '" + path + "'");
  }
  uint32_t size = uint32_t(static_cast<unsigned char>(data[offset])) << 24 |
                  uint32_t(static_cast<unsigned char>(data[offset + 1])) << 16 |
                  uint32_t(static_cast<unsigned char>(data[offset + 2])) << 8 |
                  uint32_t(static_cast<unsigned char>(data[offset + 3]));
  if (offset + 4 + size > data.size()) {
    return Status::InvalidArgument("deletion vector in '" + path + "' is truncated");
  }
  auto rows = DecodeDeletionBitmap(data.substr(offset + 4, size));
  if (!rows.ok()) {
    return rows.status().WithPrefix("'" + path + "': ");
  }
  return rows;
}

}  // namespace aqueducts::delta
