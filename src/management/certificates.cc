#include "management/certificates.h"

#include <boost/json.hpp>

#include "crypto/aead.h"
#include "crypto/keyring.h"
#include "management/pipelines.h"
#include "management/policy_fragments.h"
#include "management/resource_fields.h"
#include "policy/document.h"

namespace credgate::management {

namespace json = boost::json;
using internal::Invalid;

namespace {

// A PKCS#12 file of a certificate, its chain and a 4096-bit RSA key is about 10 KiB.
constexpr size_t kMaxCertificateDataBytes = 64 * 1024;

// A certificate as documents name it: by id, or by thumbprint ("thumbprint:<HEX>").
struct CertificateName {
  std::string id;
  std::string thumbprint_key;  // "thumbprint:<HEX>", or "" when unknown.
};

CertificateName NameOf(const runtime::Snapshot& snapshot, std::string_view id) {
  CertificateName name{std::string(id), ""};
  auto entry = snapshot.certificates.find(name.id);
  if (entry != snapshot.certificates.end()) {
    name.thumbprint_key =
        std::string(policy::kThumbprintPrefix) + entry->second->certificate->thumbprint();
  }
  return name;
}

bool Names(const std::shared_ptr<const policy::CompiledDocument>& document,
           const CertificateName& name) {
  if (document == nullptr) return false;
  return document->certificates.contains(name.id) ||
         (!name.thumbprint_key.empty() && document->certificates.contains(name.thumbprint_key));
}

// Recompiles `document` of `policy` at `path` when it names the certificate `name`.
Status Recompile(const runtime::Snapshot& snapshot, const CertificateName& name,
                 const std::string& path,
                 const std::optional<PolicyResource>& policy, PolicyLevel level,
                 std::shared_ptr<const policy::CompiledDocument>& document) {
  if (!policy || !Names(document, name)) return OkStatus();
  auto compiled = CompileDocument(policy->xml, level, snapshot);
  if (!compiled.ok()) {
    return Invalid("certificate '" + name.id + "' would break the policy " + path + ": " +
                   compiled.error().message);
  }
  document = std::move(*compiled);
  return OkStatus();
}

Result<std::shared_ptr<const CertificateEntry>> Parsed(CertificateResource resource) {
  auto certificate = crypto::Certificate::Parse(resource.data.Expose(), resource.password);
  if (!certificate.ok()) {
    return Invalid("invalid 'properties.data': " + certificate.error().message);
  }
  auto entry = std::make_shared<CertificateEntry>();
  entry->resource = std::move(resource);
  entry->certificate = std::move(*certificate);
  return std::shared_ptr<const CertificateEntry>(std::move(entry));
}

}  // namespace

Result<std::shared_ptr<const CertificateEntry>> ParseCertificate(std::string_view id,
                                                                 const json::object& body) {
  CREDGATE_RETURN_IF_ERROR(ValidateResourceName(id, "certificate"));
  auto properties = internal::Properties(body);
  if (!properties.ok()) return properties.error();
  const json::object& p = **properties;
  if (const json::value* key_vault = p.if_contains("keyVault");
      key_vault != nullptr && !key_vault->is_null()) {
    return Invalid(
        "'properties.keyVault' is not supported: credgate reads no Azure Key Vault, so send the "
        "certificate in 'properties.data'");
  }
  CertificateResource resource;
  resource.id = std::string(id);
  auto data = internal::RequiredString(p, "data", "properties.data");
  if (!data.ok()) return data.error();
  if (data->size() > kMaxCertificateDataBytes) {
    return Invalid("'properties.data' is larger than 64 KiB");
  }
  resource.data = Secret(std::move(*data));
  auto password = internal::OptionalString(p, "password", "properties.password");
  if (!password.ok()) return password.error();
  resource.password = Secret(std::move(*password));
  // NOTE: boost::json cannot cleanse its buffers, so the request body's copy of the data and
  // password stays in freed heap memory until it is reused.
  return Parsed(std::move(resource));
}

json::object RenderCertificate(const CertificateEntry& entry) {
  json::object p;
  p["subject"] = entry.certificate->subject();
  p["thumbprint"] = entry.certificate->thumbprint();
  p["expirationDate"] = entry.certificate->ExpirationDate();
  return internal::Envelope("/certificates/" + entry.resource.id, entry.resource.id,
                            "Microsoft.ApiManagement/service/certificates", std::move(p));
}

Result<store::ResourceRecord> CertificateRecord(const std::string& key,
                                                const CertificateEntry& entry,
                                                const crypto::Keyring& keyring) {
  json::object plain;
  plain["data"] = entry.resource.data.Expose();
  plain["password"] = entry.resource.password.Expose();
  Secret serialized(json::serialize(plain));
  auto sealed = keyring.Seal(serialized, key);
  if (!sealed.ok()) return sealed.error();
  json::object body = RenderCertificate(entry);
  body[kSealedCertificateMember] = crypto::SealedToBase64(*sealed);
  return store::ResourceRecord{"certificate", key, "", json::serialize(body), 0, 0};
}

Result<std::shared_ptr<const CertificateEntry>> OpenCertificateRecord(
    std::string_view id, const store::ResourceRecord& record, const json::object& body,
    const crypto::Keyring& keyring) {
  const json::value* sealed = body.if_contains(kSealedCertificateMember);
  if (sealed == nullptr || !sealed->is_string()) {
    return MakeError(ErrorCode::kInvalidArgument, "its sealed certificate is missing");
  }
  auto blob = crypto::SealedFromBase64(sealed->get_string());
  if (!blob.ok()) return blob.error();
  auto opened = keyring.Open(*blob, record.key);
  if (!opened.ok()) return opened.error();
  boost::system::error_code ec;
  json::value plain = json::parse(opened->Expose(), ec);
  if (ec || !plain.is_object()) {
    return MakeError(ErrorCode::kInvalidArgument, "its sealed certificate is not a JSON object");
  }
  CertificateResource resource;
  resource.id = std::string(id);
  if (const json::value* data = plain.as_object().if_contains("data"); data && data->is_string()) {
    resource.data = Secret(std::string(data->get_string()));
  }
  if (const json::value* password = plain.as_object().if_contains("password");
      password && password->is_string()) {
    resource.password = Secret(std::string(password->get_string()));
  }
  return Parsed(std::move(resource));
}

policy::CertificateLookup CertificatesOf(const runtime::Snapshot& snapshot) {
  return [&snapshot](std::string_view id) -> std::shared_ptr<const crypto::Certificate> {
    if (id.starts_with(policy::kThumbprintPrefix)) {
      id.remove_prefix(policy::kThumbprintPrefix.size());
      for (const auto& [certificate_id, entry] : snapshot.certificates) {
        if (entry->certificate->thumbprint() == id) return entry->certificate;
      }
      return nullptr;
    }
    auto it = snapshot.certificates.find(std::string(id));
    if (it == snapshot.certificates.end()) return nullptr;
    return it->second->certificate;
  };
}

Status SetCertificate(runtime::Snapshot& snapshot, std::shared_ptr<const CertificateEntry> entry,
                      int& status) {
  const std::string id = entry->resource.id;
  // Documents that name the replaced certificate by its old thumbprint are recompiled too.
  const CertificateName name = NameOf(snapshot, id);
  auto& slot = snapshot.certificates[id];
  status = slot ? 200 : 201;
  const bool replaced = slot != nullptr;
  slot = std::move(entry);
  // A new certificate is named by no compiled document yet.
  if (!replaced) return OkStatus();

  CREDGATE_RETURN_IF_ERROR(Recompile(snapshot, name, "/policies/policy", snapshot.global_policy,
                                     PolicyLevel::kGlobal, snapshot.global_document));
  for (auto& [api_id, api] : snapshot.apis) {
    bool uses = Names(api->document, name);
    for (const auto& [operation_id, operation] : api->operations) {
      uses = uses || Names(operation->document, name);
    }
    if (!uses) continue;
    auto copy = std::make_shared<runtime::ApiEntry>(*api);
    CREDGATE_RETURN_IF_ERROR(Recompile(snapshot, name, "/apis/" + api_id + "/policies/policy",
                                       copy->policy, PolicyLevel::kApi, copy->document));
    for (auto& [operation_id, operation] : copy->operations) {
      if (!Names(operation->document, name)) continue;
      auto updated = std::make_shared<runtime::OperationEntry>(*operation);
      CREDGATE_RETURN_IF_ERROR(Recompile(
          snapshot, name, "/apis/" + api_id + "/operations/" + operation_id + "/policies/policy",
          updated->policy, PolicyLevel::kOperation, updated->document));
      operation = std::move(updated);
    }
    api = std::move(copy);
  }
  return RecomposePipelines(snapshot, "");
}

Status CheckCertificate(const runtime::Snapshot& snapshot,
                        std::shared_ptr<const CertificateEntry> entry) {
  runtime::Snapshot scratch = snapshot;
  int status = 0;
  return SetCertificate(scratch, std::move(entry), status);
}

std::vector<std::string> CertificateUsers(const runtime::Snapshot& snapshot, std::string_view id) {
  const CertificateName name = NameOf(snapshot, id);
  std::vector<std::string> users;
  if (Names(snapshot.global_document, name)) users.push_back("/policies/policy");
  for (const auto& [api_id, api] : snapshot.apis) {
    if (Names(api->document, name)) users.push_back("/apis/" + api_id + "/policies/policy");
    for (const auto& [operation_id, operation] : api->operations) {
      if (Names(operation->document, name)) {
        users.push_back("/apis/" + api_id + "/operations/" + operation_id + "/policies/policy");
      }
    }
  }
  // A fragment records no certificates, so one that compiles with the certificate and fails
  // without it is a user. Fragments that another fragment includes are found the same way.
  policy::FragmentLookup fragments = FragmentsOf(snapshot);
  policy::CertificateLookup all = CertificatesOf(snapshot);
  policy::CertificateLookup without =
      [&all, &name](std::string_view wanted) -> std::shared_ptr<const crypto::Certificate> {
    if (wanted == name.id || wanted == name.thumbprint_key) return nullptr;
    return all(wanted);
  };
  for (const auto& [fragment_id, fragment] : snapshot.policy_fragments) {
    auto with_it = policy::CompilePolicyFragment(fragment_id, fragment->xml, fragments, all);
    auto without_it = policy::CompilePolicyFragment(fragment_id, fragment->xml, fragments, without);
    if (with_it.ok() && !without_it.ok()) users.push_back("/policyFragments/" + fragment_id);
  }
  return users;
}

}  // namespace credgate::management
