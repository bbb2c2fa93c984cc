#include "io/connectors.h"

#include "io/file_destination.h"
#include "io/file_source.h"

namespace aqueducts::io {
namespace {

using connector::RunContext;

class FileSourceKind : public connector::TypedSource<FileSource> {
 public:
  using TypedSource::Register;
  Status Register(const FileSource& source, const RunContext& ctx) const override {
    AQ_RETURN_IF_ERROR(ctx.UseStore(source.location, source.storage_config));
    return RegisterFileSource(ctx.conn(), source);
  }
};

class DirSourceKind : public connector::TypedSource<DirSource> {
 public:
  using TypedSource::Register;
  Status Register(const DirSource& source, const RunContext& ctx) const override {
    AQ_RETURN_IF_ERROR(ctx.UseStore(source.location, source.storage_config));
    return RegisterDirSource(ctx.conn(), source);
  }
};

class FileDestinationKind : public connector::TypedDestination<FileDestination> {
 public:
  using TypedDestination::Prepare;
  using TypedDestination::Write;
  Status Prepare(const FileDestination& destination, const RunContext& ctx) const override {
    AQ_RETURN_IF_ERROR(ctx.UseStore(destination.location, destination.storage_config));
    return PrepareFileDestination(destination);
  }
  Result<connector::WriteStats> Write(const FileDestination& destination, const RunContext& ctx,
                                      const std::string& relation_sql) const override {
    AQ_ASSIGN_OR_RETURN(FileWriteStats written,
                        WriteFileDestination(ctx.conn(), destination, relation_sql, ctx.cancel()));
    for (const auto& warning : written.warnings) {
      ctx.Log(LogLevel::kWarn, "file destination '" + destination.name + "': " + warning);
    }
    return connector::WriteStats{written.rows, written.bytes};
  }
};

}  // namespace

void AddConnectors(connector::Registry& registry) {
  const connector::ErrorLabel source_label{"Failed to register file source '", "'. ",
                                           "aqueducts::source::register_file"};
  registry.AddSource("file", std::make_unique<FileSourceKind>(), source_label);
  registry.AddSource("directory", std::make_unique<DirSourceKind>(), source_label);
  registry.AddDestination(
      "file", std::make_unique<FileDestinationKind>(),
      {"Failed to register file destination '", "'. ",
       "aqueducts::destination::register_file_error"},
      {"Failed to write to file destination '", "'. ", "aqueducts::destination::write_file_error"});
}

}  // namespace aqueducts::io
