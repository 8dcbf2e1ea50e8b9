// Keyring: the master keys credgate seals secrets with. Several keys can be present at once, so
// that blobs sealed before a rotation still open; new seals always use the active key, which is
// the last one given. Opening picks the key by the id the blob names (see aead.h).
//
// A Keyring is immutable after Create, so every method is thread-safe as long as its
// RandomSource is (OpenSslRandom is).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/random.h"
#include "common/result.h"
#include "common/secret.h"
#include "crypto/aead.h"

namespace credgate::crypto {

class Keyring {
 public:
  // Validates every key (ValidateMasterKey) and rejects duplicate ids and an empty list with
  // kInvalidArgument. The last key becomes the active one. A null `random` selects OpenSslRandom.
  static Result<Keyring> Create(std::vector<MasterKey> keys,
                                std::shared_ptr<RandomSource> random = nullptr);

  const std::string& active_key_id() const { return keys_.back().id; }
  // Ids in the order given, the active key last.
  std::vector<std::string> key_ids() const;
  bool Contains(std::string_view id) const { return Find(id) != nullptr; }

  // Seals under the active key; see crypto::Seal.
  Result<std::string> Seal(const Secret& plaintext, std::string_view aad) const;

  // Opens with the key the blob names. Fails with kFailedPrecondition when that id is not in the
  // keyring (the message lists the ids present), otherwise as crypto::Open.
  Result<Secret> Open(std::string_view blob, std::string_view aad) const;

  // Rewraps a blob's data key under the active key, for master key rotation. A blob already under
  // the active key is rewrapped too, with a fresh wrap nonce.
  Result<std::string> Rewrap(std::string_view blob) const;

 private:
  Keyring(std::vector<MasterKey> keys, std::shared_ptr<RandomSource> random)
      : keys_(std::move(keys)), random_(std::move(random)) {}

  const MasterKey* Find(std::string_view id) const;
  Result<const MasterKey*> KeyFor(std::string_view blob) const;

  std::vector<MasterKey> keys_;  // Never empty.
  std::shared_ptr<RandomSource> random_;
};

}  // namespace credgate::crypto
