// runtime::ConnectionMap, the snapshot's connections: the hash index must follow every insert,
// erase and copy of the ordered map.
#include <gtest/gtest.h>

#include "runtime/state.h"

namespace credgate::runtime {
namespace {

std::shared_ptr<const ConnectionEntry> Entry(const std::string& id) {
  auto entry = std::make_shared<ConnectionEntry>();
  entry->resource.id = id;
  return entry;
}

TEST(ConnectionMap, FindsInsertedKeys) {
  ConnectionMap connections;
  connections["github/alice"] = Entry("alice");
  connections["github/bob"] = Entry("bob");

  ASSERT_NE(connections.find("github/alice"), connections.end());
  EXPECT_EQ(connections.find("github/alice")->second->resource.id, "alice");
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
  EXPECT_EQ(copy.find("github/alice")->second->resource.id, "alice");
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
  EXPECT_EQ(moved.find("github/alice")->second->resource.id, "alice");
}

TEST(ConnectionEntry, AccessPolicyResourcesNameTheConnection) {
  ConnectionEntry entry;
  entry.resource.provider_id = "github";
  entry.resource.id = "alice";
  entry.access_policies.Upsert({"owner", "tenant", "object", {"app"}});

  const std::vector<management::AccessPolicyResource> resources = entry.AccessPolicyResources();
  ASSERT_EQ(resources.size(), 1u);
  EXPECT_EQ(resources[0].provider_id, "github");
  EXPECT_EQ(resources[0].connection_id, "alice");
  EXPECT_EQ(resources[0].id, "owner");
  EXPECT_EQ(resources[0].tenant_id, "tenant");
  EXPECT_EQ(resources[0].object_id, "object");
  EXPECT_EQ(resources[0].app_ids, std::vector<std::string>{"app"});
}

}  // namespace
}  // namespace credgate::runtime
