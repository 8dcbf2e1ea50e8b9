// runtime::ConnectionMap, the snapshot's connections: the hash index must follow every insert,
// erase and copy of the ordered map.
#include <gtest/gtest.h>

#include "runtime/state.h"

namespace credgate::runtime {
namespace {

// Returns an entry that the id of its one access policy identifies.
std::shared_ptr<const ConnectionEntry> Entry(const std::string& id) {
  auto entry = std::make_shared<ConnectionEntry>();
  entry->access_policies.Upsert({id, "tenant", "object", {}});
  return entry;
}

std::string IdOf(const std::shared_ptr<const ConnectionEntry>& entry) {
  return entry->access_policies.InOrder().at(0).id;
}

TEST(ConnectionMap, FindsInsertedKeys) {
  ConnectionMap connections;
  connections["github/alice"] = Entry("alice");
  connections["github/bob"] = Entry("bob");

  ASSERT_NE(connections.find("github/alice"), connections.end());
  EXPECT_EQ(IdOf(connections.find("github/alice")->second), "alice");
  EXPECT_TRUE(connections.contains("github/bob"));
  EXPECT_FALSE(connections.contains("github/carol"));
  EXPECT_EQ(connections.find("github/carol"), connections.end());
  EXPECT_EQ(connections.size(), 2u);
}

TEST(ConnectionMap, ListsProviderInKeyOrder) {
  ConnectionMap connections;
  for (const char* key : {"slack/zed", "github/bob", "github/alice", "google/amy"}) {
    connections[key] = Entry(key);
  }
  std::vector<std::string> listed;
  for (auto it = connections.lower_bound("github/");
       it != connections.end() && it->first.starts_with("github/"); ++it) {
    listed.push_back(it->first);
  }
  EXPECT_EQ(listed, (std::vector<std::string>{"github/alice", "github/bob"}));
}

TEST(ConnectionMap, EraseRemovesFromIndex) {
  ConnectionMap connections;
  connections["github/alice"] = Entry("alice");
  connections["github/bob"] = Entry("bob");
  connections["github/carol"] = Entry("carol");

  EXPECT_EQ(connections.erase("github/alice"), 1u);
  EXPECT_EQ(connections.erase("github/alice"), 0u);
  auto next = connections.erase(connections.find("github/bob"));
  ASSERT_NE(next, connections.end());
  EXPECT_EQ(next->first, "github/carol");
  EXPECT_FALSE(connections.contains("github/alice"));
  EXPECT_FALSE(connections.contains("github/bob"));
  EXPECT_TRUE(connections.contains("github/carol"));
}

TEST(ConnectionMap, CopyHasItsOwnIndex) {
  auto original = std::make_unique<ConnectionMap>();
  (*original)["github/alice"] = Entry("alice");
  ConnectionMap copy = *original;
  copy["github/bob"] = Entry("bob");
  original.reset();  // The copy's index must not point into the destroyed map.

  ASSERT_NE(copy.find("github/alice"), copy.end());
  EXPECT_EQ(IdOf(copy.find("github/alice")->second), "alice");
  EXPECT_TRUE(copy.contains("github/bob"));

  ConnectionMap assigned;
  assigned = copy;
  copy.erase("github/alice");
  EXPECT_TRUE(assigned.contains("github/alice"));
  EXPECT_FALSE(copy.contains("github/alice"));
}

TEST(ConnectionMap, MoveKeepsIndex) {
  ConnectionMap connections;
  connections["github/alice"] = Entry("alice");
  ConnectionMap moved = std::move(connections);
  ASSERT_NE(moved.find("github/alice"), moved.end());
  EXPECT_EQ(IdOf(moved.find("github/alice")->second), "alice");
}

TEST(ConnectionEntry, AccessPolicyResourcesNameTheConnection) {
  ConnectionEntry entry;
  entry.access_policies.Upsert({"owner", "tenant", "object", {"app"}});

  const std::vector<management::AccessPolicyResource> resources =
      entry.AccessPolicyResources("github/alice");
  ASSERT_EQ(resources.size(), 1u);
  EXPECT_EQ(resources[0].provider_id, "github");
  EXPECT_EQ(resources[0].connection_id, "alice");
  EXPECT_EQ(resources[0].id, "owner");
  EXPECT_EQ(resources[0].tenant_id, "tenant");
  EXPECT_EQ(resources[0].object_id, "object");
  EXPECT_EQ(resources[0].app_ids, std::vector<std::string>{"app"});
}

TEST(ConnectionEntry, ResourceTakesIdsFromKey) {
  ConnectionEntry entry;
  management::ConnectionResource resource;
  resource.provider_id = "ignored";
  resource.id = "ignored";
  resource.grant_type = management::GrantType::kClientCredentials;
  resource.parameters_given = true;
  resource.parameters.Mutable().values["clientId"] = "worker-client";
  entry.SetResource(std::move(resource));

  const management::ConnectionResource read = entry.Resource("daemon/worker");
  EXPECT_EQ(read.provider_id, "daemon");
  EXPECT_EQ(read.id, "worker");
  EXPECT_EQ(read.grant_type, management::GrantType::kClientCredentials);
  EXPECT_TRUE(read.parameters_given);
  EXPECT_EQ(read.parameters->values.at("clientId"), "worker-client");
}

TEST(ConnectionKey, SplitsAtFirstSlash) {
  EXPECT_EQ(SplitConnectionKey("github/alice").first, "github");
  EXPECT_EQ(SplitConnectionKey("github/alice").second, "alice");
  EXPECT_EQ(SplitConnectionKey(ConnectionKey("p", "c")).second, "c");
  EXPECT_EQ(SplitConnectionKey("no-slash").first, "no-slash");
  EXPECT_EQ(SplitConnectionKey("no-slash").second, "");
}

}  // namespace
}  // namespace credgate::runtime
