#include "credentials/token_shape.h"

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>

#include "credentials/provider_resolution.h"

namespace credgate::credentials {

namespace json = boost::json;

namespace {

// Returns the reference token `text` with RFC 6901 §4 escapes (~1 for '/', ~0 for '~') undone.
std::string Unescape(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '~' && i + 1 < text.size() && (text[i + 1] == '0' || text[i + 1] == '1')) {
      out.push_back(text[i + 1] == '0' ? '~' : '/');
      ++i;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

// Splits a pointer into its parent's pointer and its last reference token.
std::pair<std::string_view, std::string> SplitLast(std::string_view pointer) {
  const size_t slash = pointer.rfind('/');
  return {pointer.substr(0, slash), Unescape(pointer.substr(slash + 1))};
}

json::value* FindMutable(json::value& root, std::string_view pointer) {
  return const_cast<json::value*>(FindJsonPointer(root, pointer));
}

// Removes the value at `pointer` and returns it, or nullopt when there is none.
std::optional<json::value> TakeAt(json::value& root, std::string_view pointer) {
  auto [parent_pointer, key] = SplitLast(pointer);
  json::value* parent = FindMutable(root, parent_pointer);
  if (parent == nullptr || !parent->is_object()) return std::nullopt;
  json::object& object = parent->get_object();
  auto it = object.find(key);
  if (it == object.end()) return std::nullopt;
  json::value value = std::move(it->value());
  object.erase(it);
  return value;
}

std::optional<json::object> DecodeIdTokenPayload(const json::object& response) {
  const json::value* token = response.if_contains("id_token");
  if (token == nullptr || !token->is_string()) return std::nullopt;
  std::string_view text = token->get_string();
  const size_t first = text.find('.');
  const size_t second = text.find('.', first == std::string_view::npos ? first : first + 1);
  if (first == std::string_view::npos || second == std::string_view::npos) return std::nullopt;
  auto payload = Base64UrlDecode(text.substr(first + 1, second - first - 1));
  if (!payload) return std::nullopt;
  boost::system::error_code ec;
  json::value value = json::parse(*payload, ec);
  if (ec || !value.is_object()) return std::nullopt;
  return std::move(value.get_object());
}

std::optional<json::value> ParseJsonObject(std::string_view body) {
  boost::system::error_code ec;
  json::value value = json::parse(body, ec);
  if (ec || !value.is_object()) return std::nullopt;
  return value;
}

std::optional<json::value> ParseFormObject(std::string_view body) {
  auto fields = FormDecode(body);
  if (!fields) return std::nullopt;
  json::object object;
  for (auto& [name, field] : *fields) object[name] = field;
  return json::value(std::move(object));
}

// Moves the value at `pointer` to the top-level member `name`, replacing what was there, or
// removes `name` when `pointer` is empty. Taking the value out of `root` first means that a
// nested token does not stay behind in TokenSet::response.
void Relocate(json::object& top, json::value& root, std::string_view name,
              const std::string& pointer) {
  if (pointer == "/" + std::string(name)) return;
  if (pointer.empty()) {
    top.erase(name);
    return;
  }
  std::optional<json::value> value = TakeAt(root, pointer);
  top.erase(name);
  if (value) top[name] = std::move(*value);
}

bool IsDefault(const TokenLocations& locations) {
  const TokenLocations defaults;
  return locations.access_token == defaults.access_token &&
         locations.refresh_token == defaults.refresh_token &&
         locations.expires_in == defaults.expires_in && locations.scope == defaults.scope &&
         locations.token_type == defaults.token_type;
}

}  // namespace

const json::value* FindJsonPointer(const json::value& root, std::string_view pointer) {
  const json::value* current = &root;
  while (!pointer.empty()) {
    if (pointer.front() != '/') return nullptr;
    pointer.remove_prefix(1);
    const size_t slash = pointer.find('/');
    const std::string token = Unescape(pointer.substr(0, slash));
    pointer = slash == std::string_view::npos ? std::string_view() : pointer.substr(slash);
    if (current->is_object()) {
      current = current->get_object().if_contains(token);
    } else if (current->is_array()) {
      size_t index = 0;
      auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), index);
      if (ec != std::errc() || end != token.data() + token.size() ||
          index >= current->get_array().size()) {
        return nullptr;
      }
      current = &current->get_array()[index];
    } else {
      return nullptr;
    }
    if (current == nullptr) return nullptr;
  }
  return current;
}

ShapedTokenResponse ShapeTokenResponse(http::ClientResponse response,
                                       const ProviderConfig& provider,
                                       const TokenLocations& locations) {
  ShapedTokenResponse shaped;
  std::optional<json::value> body = ParseJsonObject(response.body);
  const bool json_body = body.has_value();
  if (!body) body = ParseFormObject(response.body);
  if (body) {
    std::optional<json::object> id_token;
    for (const KeptValue& kept : provider.kept_values) {
      const json::value* value = nullptr;
      if (kept.source == KeptValue::Source::kTokenResponse) {
        value = FindJsonPointer(*body, kept.key);
      } else if (kept.source == KeptValue::Source::kIdToken) {
        if (!id_token) id_token = DecodeIdTokenPayload(body->get_object());
        if (id_token) value = id_token->if_contains(kept.key);
      }
      if (value != nullptr && !value->is_null()) shaped.kept[kept.name] = *value;
    }
  }

  if (body && json_body && !IsDefault(locations) &&
      !body->get_object().contains("error")) {
    json::object& top = body->get_object();
    Relocate(top, *body, "access_token", locations.access_token);
    Relocate(top, *body, "refresh_token", locations.refresh_token);
    Relocate(top, *body, "expires_in", locations.expires_in);
    Relocate(top, *body, "scope", locations.scope);
    Relocate(top, *body, "token_type", locations.token_type);
    response.body = json::serialize(top);
  }
  shaped.response = std::move(response);
  return shaped;
}

void CompleteTokenSet(TokenSet& tokens, const ProviderConfig& provider, json::object kept) {
  if (!tokens.expires_at && provider.default_access_token_lifetime) {
    tokens.expires_at = tokens.obtained_at + *provider.default_access_token_lifetime;
  }
  if (provider.response_scope_separator != ' ') {
    tokens.scope = NormalizeScopes(tokens.scope, provider.response_scope_separator);
  }
  for (auto& [name, value] : kept) tokens.response[name] = std::move(value);
}

void KeepCallbackValues(TokenSet& tokens, const ProviderConfig& provider,
                        const FormFields& callback_parameters) {
  for (const KeptValue& kept : provider.kept_values) {
    if (kept.source != KeptValue::Source::kCallback) continue;
    for (const auto& [name, value] : callback_parameters) {
      if (name == kept.key && !value.empty()) {
        tokens.response[kept.name] = value;
        break;
      }
    }
  }
}

void CarryKeptValues(TokenSet& tokens, const ProviderConfig& provider,
                     const json::object& previous) {
  for (const KeptValue& kept : provider.kept_values) {
    if (tokens.response.contains(kept.name)) continue;
    if (const json::value* value = previous.if_contains(kept.name)) {
      tokens.response[kept.name] = *value;
    }
  }
}

}  // namespace credgate::credentials
