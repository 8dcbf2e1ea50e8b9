// Calls the management API of the server that serves the portal. The credential (an admin key or
// an administrator JWT) is kept in sessionStorage, so it lasts until the tab closes, and is sent
// as "Authorization: Bearer <credential>" on every call.

const kStorageKey = 'credgate.credential';

export function credential() {
  return sessionStorage.getItem(kStorageKey);
}

export function setCredential(value) {
  sessionStorage.setItem(kStorageKey, value);
}

export function clearCredential() {
  sessionStorage.removeItem(kStorageKey);
}

// An error response of the management API: `status` and the ARM error's code and message.
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// Sends `method` to `path` with `body` as JSON when given. Resolves with the parsed body (null
// for an empty one) and rejects with an ApiError for a status outside 2xx.
export async function call(method, path, body) {
  const headers = { authorization: `Bearer ${credential() ?? ''}` };
  const init = { method, headers, cache: 'no-store' };
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  const text = await response.text();
  let json = null;
  if (text !== '') {
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
  }
  if (!response.ok) {
    const error = json?.error ?? {};
    throw new ApiError(response.status, error.code ?? `HTTP ${response.status}`,
                       error.message ?? (text || response.statusText));
  }
  return json;
}

// Returns the `value` array of a collection.
export async function list(path) {
  return (await call('GET', path))?.value ?? [];
}

// Encodes one path segment of a resource name.
export function segment(name) {
  return encodeURIComponent(name);
}
