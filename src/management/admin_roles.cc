#include "management/admin_roles.h"

namespace credgate::management {

namespace {

std::string_view FirstSegment(std::string_view path) {
  while (path.starts_with('/')) path.remove_prefix(1);
  return path.substr(0, path.find('/'));
}

AdminRole RequiredRole(ManagementOperation operation) {
  switch (operation) {
    case ManagementOperation::kRead:
      return AdminRole::kReader;
    case ManagementOperation::kChange:
      return AdminRole::kOperator;
    case ManagementOperation::kAdminKeyManagement:
    case ManagementOperation::kMasterKeyRewrap:
    case ManagementOperation::kTransfer:
      return AdminRole::kAdmin;
  }
  return AdminRole::kAdmin;
}

std::string_view Describe(ManagementOperation operation) {
  switch (operation) {
    case ManagementOperation::kRead:
      return "reading resources";
    case ManagementOperation::kChange:
      return "changing resources";
    case ManagementOperation::kAdminKeyManagement:
      return "managing admin keys";
    case ManagementOperation::kMasterKeyRewrap:
      return "rewrapping under the master key";
    case ManagementOperation::kTransfer:
      return "exporting or importing the configuration";
  }
  return "this call";
}

}  // namespace

Result<AdminRole> ParseAdminRole(std::string_view text) {
  if (text == "reader") return AdminRole::kReader;
  if (text == "operator") return AdminRole::kOperator;
  if (text == "admin") return AdminRole::kAdmin;
  return MakeError(ErrorCode::kInvalidArgument,
                   "invalid role '" + std::string(text) + "': use reader, operator or admin");
}

std::string_view AdminRoleName(AdminRole role) {
  switch (role) {
    case AdminRole::kReader:
      return "reader";
    case AdminRole::kOperator:
      return "operator";
    case AdminRole::kAdmin:
      return "admin";
  }
  return "reader";
}

ManagementOperation ClassifyOperation(std::string_view method, std::string_view path) {
  std::string_view first = FirstSegment(path);
  if (first == "adminKeys") return ManagementOperation::kAdminKeyManagement;
  if (first == "masterKeys") return ManagementOperation::kMasterKeyRewrap;
  if (first == "export" || first == "import") return ManagementOperation::kTransfer;
  return method == "GET" ? ManagementOperation::kRead : ManagementOperation::kChange;
}

Status CheckRoleAllows(AdminRole role, ManagementOperation operation,
                       std::string_view principal_id) {
  AdminRole required = RequiredRole(operation);
  if (static_cast<int>(role) >= static_cast<int>(required)) return OkStatus();
  return MakeError(ErrorCode::kPermissionDenied,
                   "principal '" + std::string(principal_id) + "' has role '" +
                       std::string(AdminRoleName(role)) + "', which does not allow " +
                       std::string(Describe(operation)) + "; that needs role '" +
                       std::string(AdminRoleName(required)) + "'",
                   "Forbidden");
}

}  // namespace credgate::management
