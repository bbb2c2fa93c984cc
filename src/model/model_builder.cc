// Tree -> Aqueduct: the top level, stages and source file formats.

#include <cctype>

#include "common/text.h"
#include "model/builder.h"
#include "model/text_util.h"

namespace aqueducts::model_internal {
namespace {

Result<Stage> ReadStage(const TreeReader& reader, const Node& node, const std::string& path) {
  AQ_RETURN_IF_ERROR(reader.ExpectMap(node, path));
  Stage stage;
  AQ_RETURN_IF_ERROR(reader.RequiredString(node, {"name"}, path, &stage.name));
  AQ_RETURN_IF_ERROR(reader.RequiredString(node, {"query"}, path, &stage.query));
  std::string show_path;
  if (const Node* show = reader.Find(node, {"show"}, path, &show_path)) {
    AQ_ASSIGN_OR_RETURN(stage.show, reader.UInt(*show, show_path));
  }
  AQ_RETURN_IF_ERROR(reader.OptionalBool(node, {"explain"}, path, &stage.explain));
  AQ_RETURN_IF_ERROR(reader.OptionalBool(node, {"explain_analyze"}, path, &stage.explain_analyze));
  AQ_RETURN_IF_ERROR(reader.OptionalBool(node, {"print_schema"}, path, &stage.print_schema));
  return stage;
}

Result<std::vector<std::vector<Stage>>> ReadStages(const TreeReader& reader, const Node& node,
                                                   const std::string& path) {
  AQ_RETURN_IF_ERROR(reader.ExpectSequence(node, path));
  std::vector<std::vector<Stage>> groups;
  for (size_t i = 0; i < node.items.size(); ++i) {
    const Node& group_node = node.items[i];
    std::string group_path = ItemPath(path, i);
    if (!group_node.IsSequence()) {
      return reader.Error(group_node, group_path,
                          "expected a list of stages (stages is a list of lists: each inner list "
                          "runs in parallel)");
    }
    std::vector<Stage> group;
    for (size_t j = 0; j < group_node.items.size(); ++j) {
      AQ_ASSIGN_OR_RETURN(Stage stage,
                          ReadStage(reader, group_node.items[j], ItemPath(group_path, j)));
      group.push_back(std::move(stage));
    }
    groups.push_back(std::move(group));
  }
  return groups;
}

}  // namespace

Result<FileFormat> ReadFileFormatTag(const TreeReader& reader, const Node& node,
                                     const std::string& path) {
  static const std::vector<std::pair<std::string, std::string>> kTags = {
      {"parquet", "parquet"}, {"Parquet", "parquet"}, {"csv", "csv"},
      {"Csv", "csv"},         {"json", "json"},       {"Json", "json"}};
  AQ_ASSIGN_OR_RETURN(std::string tag, reader.Tag(node, "type", path, kTags, "file format"));
  return tag == "parquet" ? FileFormat::kParquet
         : tag == "csv"   ? FileFormat::kCsv
                          : FileFormat::kJson;
}

Result<SourceFileType> ReadSourceFileType(const TreeReader& reader, const Node& node,
                                          const std::string& path) {
  AQ_RETURN_IF_ERROR(reader.ExpectMap(node, path));
  SourceFileType type;
  AQ_ASSIGN_OR_RETURN(type.format, ReadFileFormatTag(reader, node, path));
  // A missing `options` means all defaults.
  std::string options_path;
  const Node* options = reader.Find(node, {"options"}, path, &options_path);
  if (options == nullptr) {
    return type;
  }
  AQ_RETURN_IF_ERROR(reader.ExpectMap(*options, options_path));
  if (type.format == FileFormat::kCsv) {
    AQ_RETURN_IF_ERROR(
        reader.OptionalBool(*options, {"has_header"}, options_path, &type.has_header));
    AQ_RETURN_IF_ERROR(reader.OptionalChar(*options, {"delimiter"}, options_path, &type.delimiter));
    AQ_RETURN_IF_ERROR(reader.OptionalBool(*options, {"quoted_empty_as_null"}, options_path,
                                           &type.quoted_empty_as_null));
  }
  AQ_RETURN_IF_ERROR(reader.OptionalSchema(*options, {"schema"}, options_path, &type.schema));
  return type;
}

Result<Aqueduct> ReadAqueduct(const TreeReader& reader, const Node& root) {
  if (!root.IsMap()) {
    return reader.Error(root, "",
                        "expected a pipeline (a mapping with 'sources' and 'stages'), got " +
                            std::string(root.IsNull() ? "an empty document" : "something else"));
  }
  Aqueduct aqueduct;
  std::optional<std::string> version;
  AQ_RETURN_IF_ERROR(reader.OptionalString(root, {"version"}, "", &version));
  if (version) {
    aqueduct.version = *version;
  }

  std::string sources_path;
  AQ_ASSIGN_OR_RETURN(const Node* sources, reader.Require(root, {"sources"}, "", &sources_path));
  AQ_RETURN_IF_ERROR(reader.ExpectSequence(*sources, sources_path));
  for (size_t i = 0; i < sources->items.size(); ++i) {
    AQ_ASSIGN_OR_RETURN(Source source,
                        ReadSource(reader, sources->items[i], ItemPath(sources_path, i)));
    aqueduct.sources.push_back(std::move(source));
  }

  std::string stages_path;
  AQ_ASSIGN_OR_RETURN(const Node* stages, reader.Require(root, {"stages"}, "", &stages_path));
  AQ_ASSIGN_OR_RETURN(aqueduct.stages, ReadStages(reader, *stages, stages_path));

  std::string destination_path;
  if (const Node* destination = reader.Find(root, {"destination"}, "", &destination_path)) {
    AQ_ASSIGN_OR_RETURN(aqueduct.destination,
                        ReadDestination(reader, *destination, destination_path));
  }
  return aqueduct;
}

std::vector<Status> DuplicateNames(const TreeReader& reader, const Node& root) {
  struct Named {
    std::string what;  // "source" or "stage"
    std::string path;  // of the name
    int line;
  };
  auto lower = [](const std::string& text) { return ToLowerAscii(text); };
  std::map<std::string, Named> seen;
  std::vector<Status> out;
  auto note = [&](const Node& item, const std::string& item_path, const char* what) {
    const Node* name = item.IsMap() ? item.Find("name") : nullptr;
    if (name == nullptr || !name->IsScalar()) {
      return;
    }
    std::string name_path = item_path + ".name";
    auto [it, inserted] = seen.emplace(lower(name->scalar), Named{what, name_path, name->line});
    if (inserted) {
      return;
    }
    out.push_back(reader.Error(
        *name, name_path,
        std::string(what) + " name '" + Echo(name->scalar) + "' is already the name of " +
            it->second.what + " " + it->second.path + " (line " + std::to_string(it->second.line) +
            "): names must be unique, or the later one silently replaces the earlier"));
  };
  if (const Node* sources = root.Find("sources"); sources != nullptr && sources->IsSequence()) {
    for (size_t i = 0; i < sources->items.size(); ++i) {
      note(sources->items[i], ItemPath("sources", i), "source");
    }
  }
  if (const Node* stages = root.Find("stages"); stages != nullptr && stages->IsSequence()) {
    for (size_t i = 0; i < stages->items.size(); ++i) {
      const Node& group = stages->items[i];
      for (size_t j = 0; j < group.items.size(); ++j) {
        note(group.items[j], ItemPath(ItemPath("stages", i), j), "stage");
      }
    }
  }
  return out;
}

}  // namespace aqueducts::model_internal
