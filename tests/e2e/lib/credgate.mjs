// Starts the credgate binary for the end-to-end tests and calls its management API.

import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';

import { Child, kRepoRoot } from './processes.mjs';
import { fetchJson, sleep } from './tokens.mjs';

// The credgate binary: $CREDGATE_BIN (relative paths are taken from the repository root) or
// build/src/app/credgate.
export const kCredgateBin = (() => {
  const path = process.env.CREDGATE_BIN ?? 'build/src/app/credgate';
  return isAbsolute(path) ? path : join(kRepoRoot, path);
})();

export const kAdminKey = 'cgk_test_e2e_0123456789abcdefghijklmnopqrstuv';

export function credgateBinaryExists() {
  return existsSync(kCredgateBin);
}

// A running `credgate serve`. `gatewayUrl` and `managementUrl` are its two listeners.
export class Credgate {
  constructor({ gatewayPort, managementPort, dataDir, postLoginRedirects }) {
    this.gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
    this.managementUrl = `http://127.0.0.1:${managementPort}`;
    this.args = [
      'serve',
      '--gateway-listen', `127.0.0.1:${gatewayPort}`,
      '--management-listen', `127.0.0.1:${managementPort}`,
      '--public-url', this.gatewayUrl,
      '--data-dir', dataDir,
      '--log-format', 'json',
      ...postLoginRedirects.flatMap((url) => ['--post-login-redirect-allow', url]),
    ];
    this.starts = 0;
  }

  // Starts the process and resolves once GET /healthz on the management port returns 200.
  // Rejects with the process output when it exits first or is not healthy within `timeoutMs`.
  async start(timeoutMs = 20000) {
    this.starts += 1;
    this.child = new Child(`credgate-${this.starts}`, kCredgateBin, this.args, {
      CREDGATE_ADMIN_KEY: kAdminKey,
    });
    let exited = false;
    this.child.exited.then(() => {
      exited = true;
    });
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && !exited) {
      const healthy = await fetch(`${this.managementUrl}/healthz`)
        .then((response) => response.status === 200)
        .catch(() => false);
      if (healthy) return;
      await sleep(100);
    }
    const reason = exited ? 'exited' : `was not healthy after ${timeoutMs} ms`;
    throw new Error(`credgate ${reason}; output:\n${this.child.output}`);
  }

  async stop() {
    await this.child?.stop();
  }

  get output() {
    return this.child?.output ?? '';
  }

  // Calls the management API with the admin key. `body` is sent as JSON when given.
  manage(method, path, body) {
    const init = { method, headers: { authorization: `Bearer ${kAdminKey}` } };
    if (body !== undefined) {
      init.headers['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    return fetchJson(`${this.managementUrl}${path}?api-version=2022-08-01`, init);
  }

  // Calls the gateway with `callerJwt` as the bearer token (none when undefined).
  call(path, callerJwt) {
    const headers = callerJwt === undefined ? {} : { authorization: `Bearer ${callerJwt}` };
    return fetchJson(`${this.gatewayUrl}${path}`, { headers });
  }
}

// The API policy of the end-to-end flow: validate the caller's JWT, fetch the backend token of
// authorization `authorizationId` and send it to the backend as the bearer token.
export function authorizationPolicy(providerId, authorizationId) {
  return `<policies><inbound><base/>
  <get-authorization-context provider-id="${providerId}" authorization-id="${authorizationId}"
    context-variable-name="auth-context" identity-type="jwt"
    identity="@(context.Request.Headers.GetValueOrDefault(&quot;Authorization&quot;,&quot;&quot;).Replace(&quot;Bearer &quot;,&quot;&quot;))"
    ignore-error="false"/>
  <set-header name="Authorization" exists-action="override">
    <value>@("Bearer " + ((Authorization)context.Variables.GetValueOrDefault("auth-context"))?.AccessToken)</value>
  </set-header>
</inbound><backend><base/></backend><outbound><base/></outbound><on-error><base/></on-error></policies>`;
}
