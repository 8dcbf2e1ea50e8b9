// Starts the credgate binary for the end-to-end tests and calls its management API.

import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';

import { Child, kRepoRoot } from './processes.mjs';
import { recordSecrets } from './secrets.mjs';
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
//
// Options besides the ports and the data directory: `configFile` adds `--config FILE`;
// `adminKey` is the CREDGATE_ADMIN_KEY value (default kAdminKey), and null leaves the variable
// unset so that credgate uses <dataDir>/admin.key, which readGeneratedAdminKey() then reads;
// `name` prefixes the log file names under .test-output/e2e/; `publicUrl` is the --public-url
// (default the gateway's own URL, and null leaves the flag out); `extraArgs` are appended to the command line; `env` contains
// more environment variables. `env` may be changed between starts, for example to start the
// same gateway once with a fault injected.
export class Credgate {
  constructor({
    gatewayPort,
    managementPort,
    dataDir,
    postLoginRedirects = [],
    configFile,
    adminKey = kAdminKey,
    name = 'credgate',
    publicUrl,
    extraArgs = [],
    env = {},
  }) {
    this.gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
    this.managementUrl = `http://127.0.0.1:${managementPort}`;
    this.dataDir = dataDir;
    this.adminKey = adminKey;
    this.name = name;
    this.env = env;
    this.args = [
      'serve',
      ...(configFile === undefined ? [] : ['--config', configFile]),
      '--gateway-listen', `127.0.0.1:${gatewayPort}`,
      '--management-listen', `127.0.0.1:${managementPort}`,
      ...(publicUrl === null ? [] : ['--public-url', publicUrl ?? this.gatewayUrl]),
      '--data-dir', dataDir,
      '--log-format', 'json',
      ...postLoginRedirects.flatMap((url) => ['--post-login-redirect-allow', url]),
      ...extraArgs,
    ];
    this.env = env;
    this.starts = 0;
    recordSecrets('admin key', [adminKey]);
  }

  // Spawns the process without waiting for it to become ready.
  spawn() {
    this.starts += 1;
    this.child = new Child(`${this.name}-${this.starts}`, kCredgateBin, this.args, {
      CREDGATE_ADMIN_KEY: this.adminKey ?? undefined,
      ...this.env,
    });
    return this.child;
  }

  // Starts the process and resolves with {code, signal, output} once it exits, for starts that
  // are expected to fail. Kills it and rejects when it is still running after `timeoutMs`.
  async runUntilExit(timeoutMs = 20000) {
    const child = this.spawn();
    const timer = setTimeout(() => child.process.kill('SIGKILL'), timeoutMs);
    const { code, signal } = await child.exited;
    clearTimeout(timer);
    if (signal === 'SIGKILL') {
      throw new Error(`credgate was still running after ${timeoutMs} ms; output:\n${child.output}`);
    }
    return { code, signal, output: child.output };
  }

  // Reads the admin key that credgate generated into <dataDir>/admin.key and uses it from now
  // on in manage().
  readGeneratedAdminKey() {
    this.adminKey = readFileSync(join(this.dataDir, 'admin.key'), 'utf8').trim();
    recordSecrets('admin key', [this.adminKey]);
    return this.adminKey;
  }

  // Starts the process and resolves once GET /healthz on the management port returns 200.
  // Rejects with the process output when it exits first or is not healthy within `timeoutMs`.
  async start(timeoutMs = 20000) {
    this.spawn();
    let exited = false;
    this.child.exited.then(() => {
      exited = true;
    });
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && !exited) {
      const healthy = await fetch(`${this.managementUrl}/healthz`)
        .then((response) => response.status === 200)
        .catch(() => false);
      if (healthy) {
        this.recordKeyFiles();
        return;
      }
      await sleep(100);
    }
    const reason = exited ? 'exited' : `was not healthy after ${timeoutMs} ms`;
    throw new Error(`credgate ${reason}; output:\n${this.child.output}`);
  }

  // Records the keys of the master.key and admin.key files that credgate generated in its data
  // folder. master.key has one "id:key" line per key, and lines starting with '#' are comments.
  recordKeyFiles() {
    const masterKeyFile = join(this.dataDir, 'master.key');
    if (existsSync(masterKeyFile)) {
      const keys = readFileSync(masterKeyFile, 'utf8')
        .split('\n')
        .filter((line) => line !== '' && !line.startsWith('#'))
        .map((line) => line.slice(line.indexOf(':') + 1));
      recordSecrets('master key', keys);
    }
    const adminKeyFile = join(this.dataDir, 'admin.key');
    if (existsSync(adminKeyFile)) {
      recordSecrets('admin key', [readFileSync(adminKeyFile, 'utf8').trim()]);
    }
  }

  async stop() {
    await this.child?.stop();
  }

  // Sends SIGKILL, as a crash would, and resolves once the process has exited.
  async kill() {
    await this.child?.kill();
  }

  // Resolves with the first output line, parsed as JSON when it is JSON, for which
  // `accept(line)` returns true. Rejects when the process exits first or `timeoutMs` passes.
  waitForLog(accept, timeoutMs = 20000) {
    return this.child.waitForLine((line) => (accept(line) ? parseLogLine(line) : undefined), timeoutMs);
  }

  get output() {
    return this.child?.output ?? '';
  }

  // Calls the management API with the admin key. `body` is sent as JSON when given.
  manage(method, path, body) {
    const init = { method, headers: { authorization: `Bearer ${this.adminKey}` } };
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

function parseLogLine(line) {
  try {
    return JSON.parse(line);
  } catch {
    return { message: line };
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

// Returns the hidden fields {handle, form_token} of credgate's confirmation page.
export function confirmationFields(html) {
  const field = (name) => new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1];
  return { handle: field('handle'), form_token: field('form_token') };
}

// Opens a login link without a browser and answers the confirmation page with Continue.
// Returns {page, consentCookie, fields, start, state, cookie}: the confirmation page's response,
// its cookie ("name=value") and form fields, the answer (a 303 to the provider), the state of
// that redirect and the login cookie ("name=value"). Throws when a step answers otherwise.
export async function continueLoginLink(gatewayUrl, link) {
  const page = await fetchJson(link);
  if (page.status !== 200) throw new Error(`login link returned ${page.status}: ${page.text}`);
  const consentCookie = page.headers.getSetCookie()[0]?.split(';')[0];
  const fields = confirmationFields(page.text);
  const start = await fetchJson(`${gatewayUrl}/.credgate/consent`, {
    method: 'POST',
    headers: { cookie: consentCookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...fields, action: 'continue' }).toString(),
  });
  if (start.status !== 303) throw new Error(`Continue returned ${start.status}: ${start.text}`);
  const state = new URL(start.headers.get('location')).searchParams.get('state');
  const cookie = start.headers
    .getSetCookie()
    .map((line) => line.split(';')[0])
    .find((pair) => pair.startsWith('credgate_login_'));
  return { page, consentCookie, fields, start, state, cookie };
}
