#include "crypto/keyring.h"

#include <set>

namespace credgate::crypto {

Result<Keyring> Keyring::Create(std::vector<MasterKey> keys, std::shared_ptr<RandomSource> random) {
  if (keys.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "keyring needs at least one master key");
  }
  std::set<std::string, std::less<>> ids;
  for (const MasterKey& key : keys) {
    CREDGATE_RETURN_IF_ERROR(ValidateMasterKey(key));
    if (!ids.insert(key.id).second) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "master key id '" + key.id + "' appears twice; give each key its own id");
    }
  }
  if (!random) random = std::make_shared<OpenSslRandom>();
  return Keyring(std::move(keys), std::move(random));
}

std::vector<std::string> Keyring::key_ids() const {
  std::vector<std::string> ids;
  ids.reserve(keys_.size());
  for (const MasterKey& key : keys_) ids.push_back(key.id);
  return ids;
}

const MasterKey* Keyring::Find(std::string_view id) const {
  for (const MasterKey& key : keys_) {
    if (key.id == id) return &key;
  }
  return nullptr;
}

Result<const MasterKey*> Keyring::KeyFor(std::string_view blob) const {
  auto id = SealedKeyId(blob);
  if (!id.ok()) return id.error();
  const MasterKey* key = Find(*id);
  if (key == nullptr) {
    std::string present;
    for (const MasterKey& k : keys_) present += (present.empty() ? "'" : ", '") + k.id + "'";
    return MakeError(ErrorCode::kFailedPrecondition,
                     "sealed blob names master key '" + *id + "', which is not in the keyring (" +
                         present + "); add that key to the key file to open it");
  }
  return key;
}

Result<std::string> Keyring::Seal(const Secret& plaintext, std::string_view aad) const {
  return crypto::Seal(keys_.back(), plaintext, aad, *random_);
}

Result<Secret> Keyring::Open(std::string_view blob, std::string_view aad) const {
  auto key = KeyFor(blob);
  if (!key.ok()) return key.error();
  return crypto::Open(**key, blob, aad);
}

Result<std::string> Keyring::Rewrap(std::string_view blob) const {
  auto key = KeyFor(blob);
  if (!key.ok()) return key.error();
  return crypto::Rewrap(blob, **key, keys_.back(), *random_);
}

}  // namespace credgate::crypto
