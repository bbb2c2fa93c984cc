#include "storage/store_options.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <vector>

#include "common/text.h"

namespace aqueducts::storage {
namespace {

// One setting: the canonical name and every spelling a user may write (lower case).
struct KeySpec {
  const char* canonical;
  std::vector<const char*> aliases;
  bool supported = true;  ///< false: known, but refused with "not supported"
};

// The container agent's credentials endpoint for a relative URI (ECS).
constexpr char kContainerCredentialsHost[] = "http://169.254.170.2";

const std::vector<KeySpec>& S3Keys() {
  static const std::vector<KeySpec> keys = {
      {"access_key_id", {"aws_access_key_id", "access_key_id"}},
      {"secret_access_key", {"aws_secret_access_key", "secret_access_key"}},
      {"session_token", {"aws_session_token", "session_token", "aws_token", "token"}},
      {"region", {"aws_region", "region", "aws_default_region", "default_region"}},
      {"endpoint", {"aws_endpoint", "endpoint", "aws_endpoint_url", "endpoint_url"}},
      {"allow_http", {"aws_allow_http", "allow_http"}},
      {"virtual_hosted_style_request",
       {"aws_virtual_hosted_style_request", "virtual_hosted_style_request"}},
      {"skip_signature", {"aws_skip_signature", "skip_signature"}},
      {"unsigned_payload", {"aws_unsigned_payload", "unsigned_payload"}},
      {"allow_unsafe_rename", {"aws_s3_allow_unsafe_rename", "allow_unsafe_rename"}},
      // Accepted and without effect here: we never query an instance metadata service.
      {"imdsv1_fallback", {"aws_imdsv1_fallback", "imdsv1_fallback"}},
      {"checksum_algorithm", {"aws_checksum_algorithm", "checksum_algorithm"}, false},
      {"s3_express", {"aws_s3_express", "s3_express"}, false},
      {"locking_provider", {"aws_s3_locking_provider", "locking_provider"}, false},
      {"container_credentials_relative_uri",
       {"aws_container_credentials_relative_uri", "container_credentials_relative_uri"}},
      {"max_retries", {"aws_max_retries", "max_retries"}},
  };
  return keys;
}

const std::vector<KeySpec>& AzureKeys() {
  static const std::vector<KeySpec> keys = {
      {"account_name", {"azure_storage_account_name", "account_name"}},
      {"account_key",
       {"azure_storage_account_key", "account_key", "azure_storage_access_key", "access_key"}},
      {"sas_token", {"azure_storage_sas_token", "sas_token", "azure_storage_sas_key", "sas_key"}},
      {"endpoint", {"azure_storage_endpoint", "azure_endpoint", "endpoint"}},
      {"use_emulator", {"azure_storage_use_emulator", "use_emulator"}},
      {"allow_http", {"azure_allow_http", "allow_http"}},
      {"connection_string", {"azure_storage_connection_string", "connection_string"}},
      // Accepted and without effect: we never tag blobs.
      {"disable_tagging", {"azure_disable_tagging", "disable_tagging"}},
      {"client_id", {"azure_storage_client_id", "azure_client_id", "client_id"}, false},
      {"client_secret",
       {"azure_storage_client_secret", "azure_client_secret", "client_secret"},
       false},
      {"tenant_id",
       {"azure_storage_tenant_id", "azure_tenant_id", "tenant_id", "authority_id"},
       false},
      {"use_azure_cli",
       {"azure_storage_use_azure_cli", "azure_use_azure_cli", "use_azure_cli"},
       false},
      {"federated_token_file", {"azure_federated_token_file", "federated_token_file"}, false},
      {"msi_endpoint", {"azure_msi_endpoint", "msi_endpoint"}, false},
      {"use_fabric_endpoint", {"azure_use_fabric_endpoint", "use_fabric_endpoint"}, false},
      {"max_retries", {"azure_max_retries", "max_retries"}},
  };
  return keys;
}

const std::vector<KeySpec>& GcsKeys() {
  static const std::vector<KeySpec> keys = {
      {"service_account",
       {"google_service_account", "service_account", "google_service_account_path",
        "service_account_path"}},
      {"service_account_key", {"google_service_account_key", "service_account_key"}},
      {"application_credentials", {"google_application_credentials", "application_credentials"}},
      {"bucket", {"google_bucket", "google_bucket_name", "bucket", "bucket_name"}},
      {"skip_signature", {"google_skip_signature", "skip_signature"}},
      // Ours (the original has none): another server speaking the XML API, e.g. an emulator.
      {"endpoint", {"google_endpoint", "google_storage_endpoint", "endpoint"}},
      {"allow_http", {"google_allow_http", "allow_http"}},
      {"max_retries", {"google_max_retries", "max_retries"}},
  };
  return keys;
}

// Map the config onto canonical names; unknown or unsupported keys are errors.
Result<std::map<std::string, std::string>> Canonicalise(
    const std::map<std::string, std::string>& config, const std::vector<KeySpec>& keys,
    const char* provider) {
  std::map<std::string, std::string> out;
  for (const auto& [raw_key, value] : config) {
    std::string key = ToLowerAscii(raw_key);
    const KeySpec* found = nullptr;
    for (const auto& spec : keys) {
      for (const char* alias : spec.aliases) {
        if (key == alias) {
          found = &spec;
        }
      }
    }
    if (found == nullptr) {
      std::string known;
      for (const auto& spec : keys) {
        if (spec.supported) {
          known += (known.empty() ? "" : ", ") + std::string(spec.aliases.front());
        }
      }
      return Status::InvalidArgument("storage_config: unknown " + std::string(provider) + " key '" +
                                     raw_key + "' (known keys: " + known + ")");
    }
    if (!found->supported) {
      return Status::Unsupported("storage_config: '" + raw_key + "' is not supported for " +
                                 provider + " yet; docs/object-stores.md lists what is");
    }
    out[found->canonical] = value;
  }
  return out;
}

Result<bool> ParseBool(const std::string& key, const std::string& value) {
  std::string lower = ToLowerAscii(Trim(value, " \t\r\n"));
  if (lower == "true" || lower == "1" || lower == "yes") {
    return true;
  }
  if (lower == "false" || lower == "0" || lower == "no" || lower.empty()) {
    return false;
  }
  return Status::InvalidArgument("storage_config: '" + key + "' must be true or false, not '" +
                                 value + "'");
}

// The retries of one request after a throttling answer, a server error or a lost connection:
// an integer from 0 to kMaxRetries.
constexpr int kMaxRetries = 20;
Result<int> ParseRetries(const std::string& key, const std::string& value) {
  std::string text(Trim(value, " \t\r\n"));
  if (text.empty() || text.size() > 2 ||
      !std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); }) ||
      std::stoi(text) > kMaxRetries) {
    return Status::InvalidArgument("storage_config: '" + key +
                                   "' must be a whole number from 0 to " +
                                   std::to_string(kMaxRetries) + ", not '" + value + "'");
  }
  return std::stoi(text);
}

// "[section]\nkey = value" files (~/.aws/credentials and ~/.aws/config).
std::map<std::string, std::string> ReadIniSection(const std::string& path,
                                                  const std::string& section) {
  std::map<std::string, std::string> out;
  std::ifstream in(path);
  std::string line;
  bool inside = false;
  while (std::getline(in, line)) {
    line = std::string(Trim(line, " \t\r\n"));
    if (line.empty() || line[0] == '#' || line[0] == ';') {
      continue;
    }
    if (line.front() == '[' && line.back() == ']') {
      std::string name(Trim(line.substr(1, line.size() - 2), " \t\r\n"));
      inside = name == section || name == "profile " + section;
      continue;
    }
    size_t eq = line.find('=');
    if (inside && eq != std::string::npos) {
      out[ToLowerAscii(Trim(line.substr(0, eq), " \t\r\n"))] =
          std::string(Trim(line.substr(eq + 1), " \t\r\n"));
    }
  }
  return out;
}

}  // namespace

EnvLookup ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) {
      return std::nullopt;
    }
    return std::string(value);
  };
}

bool IsSecretKey(const std::string& key) {
  std::string lower = ToLowerAscii(key);
  for (const char* word : {"secret", "key", "token", "password", "sas", "connection_string"}) {
    if (lower.find(word) != std::string::npos && lower.find("key_id") == std::string::npos &&
        lower != "aws_access_key_id") {
      return true;
    }
  }
  return false;
}

Result<S3Options> ResolveS3Options(const std::map<std::string, std::string>& config,
                                   const EnvLookup& env) {
  AQ_ASSIGN_OR_RETURN(auto keys, Canonicalise(config, S3Keys(), "S3"));
  S3Options out;
  auto from_env = [&](const char* name, std::string* target) {
    if (auto value = env(name); value && !value->empty()) {
      *target = *value;
    }
  };
  // A shared-credentials profile first, then plain variables over it.
  std::string profile = env("AWS_PROFILE").value_or("default");
  std::string home = env("HOME").value_or("");
  std::string credentials_file =
      env("AWS_SHARED_CREDENTIALS_FILE").value_or(home.empty() ? "" : home + "/.aws/credentials");
  std::string config_file =
      env("AWS_CONFIG_FILE").value_or(home.empty() ? "" : home + "/.aws/config");
  if (!credentials_file.empty()) {
    auto section = ReadIniSection(credentials_file, profile);
    out.access_key_id = section["aws_access_key_id"];
    out.secret_access_key = section["aws_secret_access_key"];
    out.session_token = section["aws_session_token"];
  }
  if (!config_file.empty()) {
    auto section = ReadIniSection(config_file, profile);
    if (!section["region"].empty()) {
      out.region = section["region"];
    }
  }
  from_env("AWS_ACCESS_KEY_ID", &out.access_key_id);
  from_env("AWS_SECRET_ACCESS_KEY", &out.secret_access_key);
  from_env("AWS_SESSION_TOKEN", &out.session_token);
  from_env("AWS_DEFAULT_REGION", &out.region);
  from_env("AWS_REGION", &out.region);
  from_env("AWS_ENDPOINT_URL", &out.endpoint);
  from_env("AWS_ENDPOINT", &out.endpoint);
  if (auto value = env("AWS_ALLOW_HTTP")) {
    AQ_ASSIGN_OR_RETURN(out.allow_http, ParseBool("AWS_ALLOW_HTTP", *value));
  }
  from_env("AWS_CONTAINER_CREDENTIALS_FULL_URI", &out.container_credentials_uri);
  if (auto relative = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
      out.container_credentials_uri.empty() && relative && !relative->empty()) {
    out.container_credentials_uri = std::string(kContainerCredentialsHost) + *relative;
  }
  from_env("AWS_CONTAINER_AUTHORIZATION_TOKEN", &out.container_authorization_token);
  from_env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", &out.container_authorization_token_file);
  if (auto value = env("AWS_S3_ALLOW_UNSAFE_RENAME")) {
    AQ_ASSIGN_OR_RETURN(out.allow_unsafe_rename, ParseBool("AWS_S3_ALLOW_UNSAFE_RENAME", *value));
  }
  for (const auto& [key, value] : keys) {
    if (key == "access_key_id") {
      out.access_key_id = value;
    } else if (key == "secret_access_key") {
      out.secret_access_key = value;
    } else if (key == "session_token") {
      out.session_token = value;
    } else if (key == "region") {
      out.region = value;
    } else if (key == "endpoint") {
      out.endpoint = value;
    } else if (key == "allow_http") {
      AQ_ASSIGN_OR_RETURN(out.allow_http, ParseBool(key, value));
    } else if (key == "virtual_hosted_style_request") {
      AQ_ASSIGN_OR_RETURN(out.virtual_hosted_style, ParseBool(key, value));
    } else if (key == "skip_signature") {
      AQ_ASSIGN_OR_RETURN(out.skip_signature, ParseBool(key, value));
    } else if (key == "unsigned_payload") {
      AQ_ASSIGN_OR_RETURN(out.unsigned_payload, ParseBool(key, value));
    } else if (key == "allow_unsafe_rename") {
      AQ_ASSIGN_OR_RETURN(out.allow_unsafe_rename, ParseBool(key, value));
    } else if (key == "container_credentials_relative_uri") {
      out.container_credentials_uri = std::string(kContainerCredentialsHost) + value;
    } else if (key == "max_retries") {
      AQ_ASSIGN_OR_RETURN(out.max_retries, ParseRetries(key, value));
    }
  }
  while (!out.endpoint.empty() && out.endpoint.back() == '/') {
    out.endpoint.pop_back();
  }
  if (out.endpoint.rfind("http://", 0) == 0 && !out.allow_http) {
    return Status::InvalidArgument(
        "storage_config: the S3 endpoint uses plain http; set aws_allow_http: true to allow it");
  }
  if (out.region.empty()) {
    out.region = "us-east-1";
  }
  return out;
}

Result<AzureOptions> ResolveAzureOptions(const std::map<std::string, std::string>& config,
                                         const std::string& url_account, const EnvLookup& env) {
  AQ_ASSIGN_OR_RETURN(auto keys, Canonicalise(config, AzureKeys(), "Azure"));
  AzureOptions out;
  auto from_env = [&](const char* name, std::string* target) {
    if (auto value = env(name); value && !value->empty()) {
      *target = *value;
    }
  };
  std::string connection_string;
  from_env("AZURE_STORAGE_CONNECTION_STRING", &connection_string);
  from_env("AZURE_STORAGE_ACCOUNT_NAME", &out.account);
  from_env("AZURE_STORAGE_ACCOUNT_KEY", &out.account_key);
  from_env("AZURE_STORAGE_SAS_TOKEN", &out.sas_token);
  if (auto value = env("AZURE_STORAGE_USE_EMULATOR")) {
    AQ_ASSIGN_OR_RETURN(out.use_emulator, ParseBool("AZURE_STORAGE_USE_EMULATOR", *value));
  }
  if (auto it = keys.find("connection_string"); it != keys.end()) {
    connection_string = it->second;
  }
  // A connection string: "Name=value;..." (or UseDevelopmentStorage=true), then explicit keys.
  size_t pos = 0;
  while (pos < connection_string.size()) {
    size_t end = connection_string.find(';', pos);
    std::string part = connection_string.substr(pos, end == std::string::npos ? end : end - pos);
    pos = end == std::string::npos ? connection_string.size() : end + 1;
    size_t eq = part.find('=');
    if (eq == std::string::npos) {
      continue;
    }
    std::string name = ToLowerAscii(Trim(part.substr(0, eq), " \t\r\n"));
    std::string value = std::string(Trim(part.substr(eq + 1), " \t\r\n"));
    if (name == "accountname") {
      out.account = value;
    } else if (name == "accountkey") {
      out.account_key = value;
    } else if (name == "sharedaccesssignature") {
      out.sas_token = value;
    } else if (name == "blobendpoint") {
      out.endpoint = value;
    } else if (name == "usedevelopmentstorage") {
      AQ_ASSIGN_OR_RETURN(out.use_emulator, ParseBool("UseDevelopmentStorage", value));
    }
  }
  for (const auto& [key, value] : keys) {
    if (key == "account_name") {
      out.account = value;
    } else if (key == "account_key") {
      out.account_key = value;
    } else if (key == "sas_token") {
      out.sas_token = value;
    } else if (key == "endpoint") {
      out.endpoint = value;
    } else if (key == "use_emulator") {
      AQ_ASSIGN_OR_RETURN(out.use_emulator, ParseBool(key, value));
    } else if (key == "allow_http") {
      AQ_ASSIGN_OR_RETURN(out.allow_http, ParseBool(key, value));
    } else if (key == "max_retries") {
      AQ_ASSIGN_OR_RETURN(out.max_retries, ParseRetries(key, value));
    }
  }
  if (!url_account.empty()) {
    out.account = url_account;
  }
  if (out.use_emulator) {
    // The storage emulator's documented development account and key.
    if (out.account.empty()) {
      out.account = "devstoreaccount1";
    }
    if (out.account_key.empty() && out.sas_token.empty()) {
      out.account_key =
          "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/"
          "K1SZFPTOtr/KBHBeksoGMGw==";
    }
    if (out.endpoint.empty()) {
      std::string base = env("AZURITE_BLOB_STORAGE_URL").value_or("http://127.0.0.1:10000");
      while (!base.empty() && base.back() == '/') {
        base.pop_back();
      }
      out.endpoint = base + "/" + out.account;
    }
    out.allow_http = true;
  }
  if (!out.sas_token.empty() && out.sas_token.front() == '?') {
    out.sas_token.erase(0, 1);
  }
  while (!out.endpoint.empty() && out.endpoint.back() == '/') {
    out.endpoint.pop_back();
  }
  if (out.account.empty() && out.endpoint.empty()) {
    return Status::InvalidArgument(
        "storage_config: no Azure storage account; set azure_storage_account_name (or "
        "AZURE_STORAGE_ACCOUNT_NAME) or use an abfss://container@account.dfs.core.windows.net URL");
  }
  if (out.endpoint.rfind("http://", 0) == 0 && !out.allow_http) {
    return Status::InvalidArgument(
        "storage_config: the Azure endpoint uses plain http; set azure_allow_http: true");
  }
  return out;
}

Result<GcsOptions> ResolveGcsOptions(const std::map<std::string, std::string>& config,
                                     const std::string& url_bucket, const EnvLookup& env) {
  AQ_ASSIGN_OR_RETURN(auto keys, Canonicalise(config, GcsKeys(), "Google Cloud Storage"));
  GcsOptions out;
  // The most specific source wins: config keys over the environment, JSON text over a file.
  std::string path;
  std::string origin;
  auto take_path = [&](const std::string& value, const std::string& from) {
    if (!value.empty() && path.empty() && out.credentials_json.empty()) {
      path = value;
      origin = from;
    }
  };
  if (auto it = keys.find("service_account_key"); it != keys.end() && !it->second.empty()) {
    out.credentials_json = it->second;
    out.credentials_origin = "google_service_account_key";
  }
  if (auto it = keys.find("service_account"); it != keys.end()) {
    take_path(it->second, "google_service_account");
  }
  if (auto it = keys.find("application_credentials"); it != keys.end()) {
    take_path(it->second, "google_application_credentials");
  }
  if (out.credentials_json.empty() && path.empty()) {
    if (auto value = env("GOOGLE_SERVICE_ACCOUNT_KEY"); value && !value->empty()) {
      out.credentials_json = *value;
      out.credentials_origin = "GOOGLE_SERVICE_ACCOUNT_KEY";
    }
  }
  for (const char* name : {"GOOGLE_SERVICE_ACCOUNT", "GOOGLE_SERVICE_ACCOUNT_PATH",
                           "GOOGLE_APPLICATION_CREDENTIALS"}) {
    take_path(env(name).value_or(""), name);
  }
  for (const auto& [key, value] : keys) {
    if (key == "bucket" && !value.empty() && value != url_bucket) {
      return Status::InvalidArgument("storage_config: google_bucket '" + value +
                                     "' differs from the location's bucket '" + url_bucket + "'");
    } else if (key == "skip_signature") {
      AQ_ASSIGN_OR_RETURN(out.skip_signature, ParseBool(key, value));
    } else if (key == "endpoint") {
      out.endpoint = value;
    } else if (key == "allow_http") {
      AQ_ASSIGN_OR_RETURN(out.allow_http, ParseBool(key, value));
    } else if (key == "max_retries") {
      AQ_ASSIGN_OR_RETURN(out.max_retries, ParseRetries(key, value));
    }
  }
  if (out.credentials_json.empty() && path.empty() && !out.skip_signature) {
    // gcloud's application-default credentials (`gcloud auth application-default login`).
    std::string home = env("HOME").value_or("");
    std::string adc = home + "/.config/gcloud/application_default_credentials.json";
    if (!home.empty() && std::ifstream(adc).good()) {
      path = adc;
      origin = "gcloud's application-default credentials";
    }
  }
  if (!path.empty()) {
    out.credentials_path = path;
    out.credentials_origin = origin;
  }
  while (!out.endpoint.empty() && out.endpoint.back() == '/') {
    out.endpoint.pop_back();
  }
  if (out.endpoint.rfind("http://", 0) == 0 && !out.allow_http) {
    return Status::InvalidArgument(
        "storage_config: the Google Cloud Storage endpoint uses plain http; set "
        "google_allow_http: true to allow it");
  }
  return out;
}

}  // namespace aqueducts::storage
