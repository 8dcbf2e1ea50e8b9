// Calls the management API of the server that serves the portal. The user signs in one of two
// ways. A typed credential (an admin key or an administrator JWT) is kept in sessionStorage, so
// it lasts until the tab closes, and is sent as "Authorization: Bearer <credential>" on every
// call. After "Sign in with OpenID Connect" the server keeps the ID token in a session named by
// an HttpOnly cookie, which the browser sends by itself. Every call then carries the session's
// CSRF token in X-CSRF-Token instead, and page scripts never receive the ID token.

const kStorageKey = 'credgate.credential';

// The CSRF token of the OpenID Connect session, or null without one. Kept in memory only: a
// reload reads it again from /portal/oidc/session.
let sessionCsrfToken = null;

export function hasSession() {
  return sessionCsrfToken !== null;
}

export function clearSession() {
  sessionCsrfToken = null;
}

// Reads whether OpenID Connect sign-in is configured and whether this browser has a session.
// Resolves with {configured, signedIn, principal}; a failed request counts as not configured.
export async function loadSessionStatus() {
  try {
    const response = await fetch('/portal/oidc/session', { cache: 'no-store' });
    if (!response.ok) return { configured: false, signedIn: false };
    const status = await response.json();
    sessionCsrfToken = status.signedIn ? status.csrfToken : null;
    return status;
  } catch {
    return { configured: false, signedIn: false };
  }
}

// Ends the OpenID Connect session on the server, which also deletes its cookie.
export async function endSession() {
  const token = sessionCsrfToken;
  sessionCsrfToken = null;
  if (token === null) return;
  await fetch('/portal/oidc/sign-out', {
    method: 'POST',
    headers: { 'x-csrf-token': token },
    cache: 'no-store',
  });
}

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
  const headers = {};
  if (!credential() && sessionCsrfToken !== null) {
    headers['x-csrf-token'] = sessionCsrfToken;
  } else {
    headers.authorization = `Bearer ${credential() ?? ''}`;
  }
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
