// End-to-end cases of APIM policy statements through the credgate binary. Each case puts a
// policy document on its own operation of the API "pol" and calls it. It then checks the
// response the caller got and the request that the loopback echo backend received. validate-jwt
// cases read keys from the identity provider of testenv/ through <openid-config>.
//
//   CREDGATE_BIN=build/src/app/credgate node --test tests/e2e/policies.test.mjs
//
// Skipped when the binary does not exist, unless CREDGATE_E2E_REQUIRED=1 makes that a failure.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { sign } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer, request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { credgateBinaryExists, Credgate, kCredgateBin } from './lib/credgate.mjs';
import { startEchoBackend } from './lib/echo_backend.mjs';
import { freePort, kOutputDir, kRepoRoot, startNodeServer, stopAll } from './lib/processes.mjs';
import { removeTestDir } from './lib/secrets.mjs';
import { callerToken, decodeJwt, fetchJson, signWithForeignKey } from './lib/tokens.mjs';

// jose, the version pinned in testenv/package-lock.json, encrypts the JWE test tokens.
const jose = createRequire(join(kRepoRoot, 'testenv', 'package.json'))('jose');

const skip = credgateBinaryExists()
  ? false
  : process.env.CREDGATE_E2E_REQUIRED === '1'
    ? false
    : `credgate binary not found at ${kCredgateBin}`;

describe('policy statements', { skip, timeout: 120000 }, () => {
  let idp;
  let echo;
  let credgate;
  let dataDir;

  before(async () => {
    const [idpPort, gatewayPort, managementPort] = await Promise.all(
      Array.from({ length: 3 }, freePort),
    );
    mkdirSync(kOutputDir, { recursive: true });
    dataDir = mkdtempSync(join(kOutputDir, 'policies-data-'));
    [[, idp], echo] = await Promise.all([
      startNodeServer('policies-idp', 'idp.mjs', ['--port', String(idpPort)]),
      startEchoBackend(),
    ]);
    credgate = new Credgate({ gatewayPort, managementPort, dataDir, name: 'policies-credgate' });
    await credgate.start();
    await manage('PUT', '/apis/pol', {
      properties: { displayName: 'Policies', path: 'pol', serviceUrl: echo.url },
    });
  });

  after(async () => {
    echo?.server.close();
    await stopAll();
    if (dataDir) removeTestDir(dataDir);
  });

  async function manage(method, path, body) {
    const response = await credgate.manage(method, path, body);
    assert.ok(
      response.status >= 200 && response.status < 300,
      `${method} ${path} returned ${response.status}: ${response.text}`,
    );
    return response.json;
  }

  // Creates operation `id` (GET /pol/{id}, or `urlTemplate`) with the policy `inbound`,
  // `backend`, `outbound` and `onError` sections.
  async function putOperation(
    id,
    { inbound = '', backend = '', outbound = '', onError = '', method = 'GET', urlTemplate },
  ) {
    await manage('PUT', `/apis/pol/operations/${id}`, {
      properties: { method, urlTemplate: urlTemplate ?? `/${id}` },
    });
    const policy = `<policies><inbound><base/>${inbound}</inbound><backend><base/>${backend}</backend>
<outbound><base/>${outbound}</outbound><on-error><base/>${onError}</on-error></policies>`;
    await manage('PUT', `/apis/pol/operations/${id}/policies/policy`, {
      properties: { format: 'rawxml', value: policy },
    });
  }

  // Puts a policy and returns the management response, which is 400 for a rejected document.
  async function tryPolicy(id, inbound) {
    await manage('PUT', `/apis/pol/operations/${id}`, {
      properties: { method: 'GET', urlTemplate: `/${id}` },
    });
    return credgate.manage('PUT', `/apis/pol/operations/${id}/policies/policy`, {
      properties: {
        format: 'rawxml',
        value: `<policies><inbound>${inbound}</inbound></policies>`,
      },
    });
  }

  function call(path, headers = {}, method = 'GET') {
    return fetchJson(`${credgate.gatewayUrl}/pol${path}`, { headers, method });
  }

  // Returns the request that the echo backend received last, after checking it received one
  // since `count` requests.
  function lastBackendRequest(count) {
    assert.equal(echo.requests.length, count + 1, 'the backend did not receive one request');
    return echo.requests.at(-1);
  }

  describe('request rewriting', () => {
    before(async () => {
      await putOperation('rewrite', {
        urlTemplate: '/rewrite/{id}',
        inbound: `<rewrite-uri template="/v2/items/{id}"/>
          <set-query-parameter name="added" exists-action="append"><value>1</value></set-query-parameter>
          <set-method>POST</set-method>`,
      });
      await putOperation('backend-service', {
        inbound: `<set-backend-service base-url="${echo.url}/alt"/>`,
        backend: `<set-query-parameter name="section"><value>backend</value></set-query-parameter>`,
      });
      await putOperation('basic', {
        inbound: `<authentication-basic id="creds" username="svc" password="pa ss"/>
          <trace source="e2e" severity="information"><message>@("basic " + context.Request.Method)</message>
            <metadata name="case" value="basic"/></trace>`,
      });
      await putOperation('replace-body', {
        outbound: `<set-status code="201" reason="Created"/>
          <set-body>@("replaced " + context.Response.StatusCode)</set-body>`,
      });
    });

    test('rewrite-uri, set-query-parameter and set-method', async () => {
      const count = echo.requests.length;
      const response = await call('/rewrite/7?keep=yes');
      assert.equal(response.status, 200, response.text);
      const seen = lastBackendRequest(count);
      assert.equal(seen.method, 'POST');
      assert.equal(seen.url, '/v2/items/7?keep=yes&added=1');
    });

    test('set-backend-service and backend section', async () => {
      const count = echo.requests.length;
      const response = await call('/backend-service');
      assert.equal(response.status, 200, response.text);
      assert.equal(lastBackendRequest(count).url, '/alt/backend-service?section=backend');
    });

    test('authentication-basic sets Authorization', async () => {
      const count = echo.requests.length;
      const response = await call('/basic', { authorization: 'Bearer caller' });
      assert.equal(response.status, 200, response.text);
      const expected = `Basic ${Buffer.from('svc:pa ss').toString('base64')}`;
      assert.equal(lastBackendRequest(count).headers.authorization, expected);
    });

    test('outbound set-body replaces backend body', async () => {
      const response = await call('/replace-body');
      assert.equal(response.status, 201, response.text);
      assert.equal(response.text, 'replaced 201');
      assert.equal(response.headers.get('x-backend'), 'echo');
    });
  });

  describe('request checks', () => {
    before(async () => {
      await putOperation('check-header', {
        inbound: `<check-header name="x-api-version" failed-check-httpcode="400"
            failed-check-error-message="x-api-version must be 2024" ignore-case="true">
          <value>2024</value></check-header>`,
      });
      await putOperation('ip-blocked', {
        inbound: `<ip-filter action="forbid"><address>127.0.0.1</address>
          <address-range from="::1" to="::1"/></ip-filter>`,
      });
      await putOperation('ip-allowed', {
        inbound: `<ip-filter action="allow"><address-range from="127.0.0.0" to="127.255.255.255"/>
          </ip-filter>`,
      });
      await putOperation('mock', {
        inbound: '<mock-response status-code="202" content-type="text/plain"/>',
      });
      await manage('PUT', '/apis/pol/operations/mock-example', {
        properties: {
          method: 'GET',
          urlTemplate: '/mock-example',
          responses: [
            {
              statusCode: 200,
              representations: [
                { contentType: 'application/xml', sample: '<order id="7"/>' },
                {
                  contentType: 'application/json',
                  examples: { other: { value: { id: 6 } }, default: { value: { id: 7 } } },
                },
              ],
            },
          ],
        },
      });
      await manage('PUT', '/apis/pol/operations/mock-example/policies/policy', {
        properties: {
          format: 'rawxml',
          value: '<policies><inbound><mock-response content-type="application/json"/></inbound></policies>',
        },
      });
      await putOperation('cors', {
        inbound: `<cors allow-credentials="true">
          <allowed-origins><origin>https://app.example</origin></allowed-origins>
          <allowed-methods preflight-result-max-age="600"><method>GET</method></allowed-methods>
          <allowed-headers><header>x-trace</header></allowed-headers>
          <expose-headers><header>x-backend</header></expose-headers>
        </cors>`,
      });
    });

    test('check-header missing and matching', async () => {
      const count = echo.requests.length;
      const missing = await call('/check-header');
      assert.equal(missing.status, 400, missing.text);
      assert.equal(missing.json.message, 'x-api-version must be 2024');
      assert.equal(echo.requests.length, count);
      const ok = await call('/check-header', { 'x-api-version': '2024' });
      assert.equal(ok.status, 200, ok.text);
    });

    test('ip-filter forbids loopback caller', async () => {
      const response = await call('/ip-blocked');
      assert.equal(response.status, 403, response.text);
      assert.equal(response.json.message, 'Caller IP address is blocked. Access denied.');
      assert.equal((await call('/ip-allowed')).status, 200);
    });

    test('mock-response answers without backend', async () => {
      const count = echo.requests.length;
      const response = await call('/mock');
      assert.equal(response.status, 202, response.text);
      assert.equal(response.headers.get('content-type'), 'text/plain');
      assert.equal(echo.requests.length, count);
    });

    test('cache-lookup responds from the cache', async () => {
      await putOperation('cached', {
        inbound: `<cache-lookup vary-by-developer="false" vary-by-developer-groups="false"
            downstream-caching-type="private">
          <vary-by-query-parameter>page</vary-by-query-parameter></cache-lookup>`,
        outbound: '<cache-store duration="60"/>',
      });
      const count = echo.requests.length;
      const first = await call('/cached?page=1');
      assert.equal(first.status, 200, first.text);
      assert.equal(first.headers.get('cache-control'), 'private, max-age=60, must-revalidate');
      const second = await call('/cached?page=1&unlisted=x');
      assert.equal(second.status, 200, second.text);
      assert.equal(second.json.url, first.json.url);
      assert.equal(echo.requests.length, count + 1);
      const otherPage = await call('/cached?page=2');
      assert.equal(otherPage.status, 200, otherPage.text);
      assert.equal(echo.requests.length, count + 2);
      const metrics = await fetchJson(`${credgate.managementUrl}/metrics`);
      assert.match(metrics.text, /credgate_response_cache_lookups_total\{outcome="hit"\} 1\b/);
      assert.match(metrics.text, /credgate_response_cache_stores_total 2\b/);
    });

    test('mock-response sends the operation example', async () => {
      const count = echo.requests.length;
      const response = await call('/mock-example');
      assert.equal(response.status, 200, response.text);
      assert.equal(response.headers.get('content-type'), 'application/json');
      assert.deepEqual(response.json, { id: 7 });
      assert.equal(echo.requests.length, count);
    });

    test('cors preflight and actual request', async () => {
      const count = echo.requests.length;
      const preflight = await call(
        '/cors',
        {
          origin: 'https://app.example',
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'x-trace',
        },
        'OPTIONS',
      );
      assert.equal(preflight.status, 200, preflight.text);
      assert.equal(preflight.headers.get('access-control-allow-origin'), 'https://app.example');
      assert.equal(preflight.headers.get('access-control-allow-credentials'), 'true');
      assert.equal(preflight.headers.get('access-control-max-age'), '600');
      assert.equal(echo.requests.length, count);

      const actual = await call('/cors', { origin: 'https://app.example' });
      assert.equal(actual.status, 200, actual.text);
      assert.equal(actual.headers.get('access-control-allow-origin'), 'https://app.example');
      assert.equal(actual.headers.get('access-control-expose-headers'), 'x-backend');

      const other = await call('/cors', { origin: 'https://evil.example' });
      assert.equal(other.status, 200);
      assert.equal(other.headers.get('access-control-allow-origin'), null);
      assert.equal(echo.requests.length, count + 1);
    });

    test('rate-limit-by-key returns 429 with Retry-After', async () => {
      await putOperation('limited', {
        inbound: `<rate-limit-by-key calls="2" renewal-period="60"
            counter-key="@(context.Request.Headers.GetValueOrDefault(&quot;x-client&quot;, &quot;&quot;))"
            remaining-calls-header-name="x-remaining"/>`,
      });
      const first = await call('/limited', { 'x-client': 'a' });
      assert.equal(first.status, 200, first.text);
      assert.equal(first.headers.get('x-remaining'), '1');
      assert.equal((await call('/limited', { 'x-client': 'a' })).status, 200);
      const limited = await call('/limited', { 'x-client': 'a' });
      assert.equal(limited.status, 429, limited.text);
      assert.match(limited.headers.get('retry-after') ?? '', /^\d+$/);
      assert.equal((await call('/limited', { 'x-client': 'b' })).status, 200);
    });

    test('quota-by-key bandwidth rejects once the kilobytes are used', async () => {
      // A backend whose every response body is 600 bytes, so 1 KB (1024 bytes) lets two requests
      // of a key through: the second starts at 600 bytes, under the limit.
      const body = 'x'.repeat(600);
      const sized = createServer((request, response) => {
        request.resume();
        request.on('end', () => {
          response.writeHead(200, { 'content-type': 'text/plain' });
          response.end(body);
        });
      });
      const port = await freePort();
      await new Promise((resolve) => sized.listen(port, '127.0.0.1', resolve));
      try {
        await putOperation('bandwidth', {
          inbound: `<quota-by-key bandwidth="1" renewal-period="3600"
              counter-key="@(context.Request.Headers.GetValueOrDefault(&quot;x-client&quot;, &quot;&quot;))"/>
            <set-backend-service base-url="http://127.0.0.1:${port}"/>`,
        });
        const first = await call('/bandwidth', { 'x-client': 'a' });
        assert.equal(first.status, 200, first.text);
        assert.equal(first.text.length, 600);
        assert.equal((await call('/bandwidth', { 'x-client': 'a' })).status, 200);

        // The gateway adds a request's bytes after its last body write, which may come after the
        // client has read the response, so the test waits until both responses are counted.
        const bytesCounted = async (total) => {
          const pattern = new RegExp(`credgate_policy_quota_bandwidth_bytes_total ${total}\\b`);
          for (let attempt = 0; attempt < 40; attempt++) {
            const page = await fetchJson(`${credgate.managementUrl}/metrics`);
            if (pattern.test(page.text)) return page;
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
          return fetchJson(`${credgate.managementUrl}/metrics`);
        };
        assert.match((await bytesCounted(1200)).text, /credgate_policy_quota_bandwidth_bytes_total 1200\b/);

        const rejected = await call('/bandwidth', { 'x-client': 'a' });
        assert.equal(rejected.status, 403, rejected.text);
        assert.match(rejected.text, /Out of bandwidth quota\. Quota will be replenished in \d\d:\d\d:\d\d\./);
        assert.equal(rejected.headers.get('retry-after'), null);
        assert.equal((await call('/bandwidth', { 'x-client': 'b' })).status, 200);

        const metrics = await bytesCounted(1800);
        assert.match(metrics.text, /credgate_policy_quota_bandwidth_bytes_total 1800\b/);
        assert.match(
          metrics.text,
          /credgate_gateway_rejections_total\{reason="BandwidthQuotaExceeded"\} 1\b/,
        );
      } finally {
        sized.close();
      }
    });

    test('quota-by-key without calls and bandwidth is rejected at save', async () => {
      const response = await tryPolicy(
        'no-quota-limit',
        '<quota-by-key renewal-period="60" counter-key="k"/>',
      );
      assert.equal(response.status, 400, response.text);
      assert.match(response.text, /requires attribute 'calls', 'bandwidth' or both/);
    });

    test('cache-store-value then cache-lookup-value', async () => {
      await putOperation('cache-store', {
        inbound: `<cache-store-value key="e2e-key" value="@(context.Request.Headers.GetValueOrDefault(&quot;x-value&quot;, &quot;&quot;))" duration="60"/>
          <return-response><set-status code="204"/></return-response>`,
      });
      await putOperation('cache-read', {
        inbound: `<cache-lookup-value key="e2e-key" variable-name="cached" default-value="missing"/>
          <return-response><set-status code="200"/><set-body>@((string)context.Variables["cached"])</set-body></return-response>`,
      });
      assert.equal((await call('/cache-read')).text, 'missing');
      assert.equal((await call('/cache-store', { 'x-value': 'kept' })).status, 204);
      assert.equal((await call('/cache-read')).text, 'kept');
    });

    test('send-request and send-one-way-request reach the service', async () => {
      await putOperation('send', {
        inbound: `<send-request mode="new" response-variable-name="lookup" timeout="10">
            <set-url>${echo.url}/lookup</set-url>
            <set-method>POST</set-method>
            <set-header name="content-type" exists-action="override"><value>text/plain</value></set-header>
            <set-body>@("from " + context.Request.Method)</set-body>
          </send-request>
          <send-one-way-request mode="new"><set-url>${echo.url}/hook</set-url></send-one-way-request>
          <set-header name="x-lookup" exists-action="override">
            <value>@(context.Variables.ContainsKey("lookup") ? "stored" : "missing")</value>
          </set-header>`,
      });
      const count = echo.requests.length;
      const response = await call('/send');
      assert.equal(response.status, 200, response.text);
      assert.equal(response.json.headers['x-lookup'], 'stored');
      const lookup = echo.requests.slice(count).find((seen) => seen.url === '/lookup');
      assert.ok(lookup, 'the service received no send-request call');
      assert.equal(lookup.method, 'POST');
      assert.equal(lookup.body, 'from GET');
      for (let i = 0; i < 50 && !echo.requests.slice(count).some((seen) => seen.url === '/hook'); i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.ok(echo.requests.slice(count).some((seen) => seen.url === '/hook'));
    });

    test('retry repeats send-request while the condition holds', async () => {
      await putOperation('retry', {
        inbound: `<limit-concurrency key="retry-case" max-count="4">
          <retry condition="@((int)context.Variables.GetValueOrDefault(&quot;attempts&quot;, 0) &lt; 3)"
              count="5" interval="0">
            <set-variable name="attempts" value="@((int)context.Variables.GetValueOrDefault(&quot;attempts&quot;, 0) + 1)"/>
            <send-request response-variable-name="r"><set-url>${echo.url}/attempt</set-url></send-request>
          </retry></limit-concurrency>
          <return-response><set-status code="200"/>
            <set-body>@(context.Variables["attempts"].ToString())</set-body></return-response>`,
      });
      const count = echo.requests.length;
      const response = await call('/retry');
      assert.equal(response.status, 200, response.text);
      assert.equal(response.text, '3');
      assert.equal(echo.requests.slice(count).filter((seen) => seen.url === '/attempt').length, 3);
    });

    test('statement in wrong section rejected at save', async () => {
      const response = await credgate.manage('PUT', '/apis/pol/operations/mock/policies/policy', {
        properties: {
          format: 'rawxml',
          value: '<policies><outbound><ip-filter action="allow"><address>10.0.0.1</address></ip-filter></outbound></policies>',
        },
      });
      assert.equal(response.status, 400, response.text);
      assert.match(response.text, /<ip-filter> is not allowed in <outbound>; it belongs in <inbound>/);
    });
  });

  describe('validate-jwt', () => {
    before(async () => {
      const openid = `<openid-config url="${idp.issuer}/.well-known/openid-configuration"/>`;
      await putOperation('jwt', {
        inbound: `<validate-jwt header-name="Authorization" require-scheme="Bearer"
            output-token-variable-name="jwt">
          ${openid}
          <audiences><audience>api://credgate</audience></audiences>
          <required-claims><claim name="azp" match="any">
            <value>caller-alice</value><value>caller-carol</value>
          </claim></required-claims>
        </validate-jwt>
        <set-header name="x-caller" exists-action="override">
          <value>@(context.Variables["jwt"].Claims.GetValueOrDefault("azp", ""))</value>
        </set-header>`,
      });
      await putOperation('jwt-handled', {
        inbound: `<validate-jwt header-name="Authorization" failed-validation-httpcode="403"
            failed-validation-error-message="Forbidden by policy">${openid}</validate-jwt>`,
        onError: `<set-header name="x-error-reason" exists-action="override">
          <value>@(context.LastError.Reason)</value></set-header>`,
      });
    });

    test('valid token reaches backend with claim', async () => {
      const token = await callerToken(idp.issuer, 'caller-alice');
      const response = await call('/jwt', { authorization: `Bearer ${token}` });
      assert.equal(response.status, 200, response.text);
      assert.equal(response.json.url, '/jwt');
      assert.equal(response.json.headers['x-caller'], 'caller-alice');
    });

    test('claim value not allowed gets 401', async () => {
      const token = await callerToken(idp.issuer, 'caller-bob');
      const before = echo.requests.length;
      const response = await call('/jwt', { authorization: `Bearer ${token}` });
      assert.equal(response.status, 401, response.text);
      assert.equal(response.json.statusCode, 401);
      assert.equal(echo.requests.length, before);
    });

    test('missing token gets 401 JWT not present', async () => {
      const response = await call('/jwt');
      assert.equal(response.status, 401, response.text);
      assert.equal(response.json.message, 'JWT not present.');
    });

    test('foreign key gets 401', async () => {
      const { payload } = decodeJwt(await callerToken(idp.issuer, 'caller-alice'));
      const response = await call('/jwt', { authorization: `Bearer ${signWithForeignKey(payload)}` });
      assert.equal(response.status, 401, response.text);
    });

    test('custom status and on-error reason', async () => {
      const response = await call('/jwt-handled', { authorization: 'Bearer not-a-jwt' });
      assert.equal(response.status, 403, response.text);
      assert.equal(response.json.message, 'Forbidden by policy');
      assert.equal(response.headers.get('x-error-reason'), 'JwtInvalid');
    });

    test('unknown attribute rejected at save', async () => {
      const response = await tryPolicy(
        'jwt-bad',
        '<validate-jwt header-name="Authorization" audience="x"><openid-config url="https://a.example/c"/></validate-jwt>',
      );
      assert.equal(response.status, 400, response.text);
      assert.match(response.text, /unknown attribute 'audience' on <validate-jwt>/);
      assert.match(response.text, /line 1, column \d+/);
    });
  });

  describe('validate-jwt with a stored certificate', () => {
    let keyPem;
    let certificatePem;
    let pfx;
    // A 32-byte CEK for alg "dir" with enc "A128CBC-HS256".
    const directKey = Buffer.alloc(32, 7);

    // Signs `payload` as an RS256 JWT with the certificate's private key.
    function signWithCertificateKey(payload) {
      const encode = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
      const input = `${encode({ alg: 'RS256', typ: 'JWT' })}.${encode(payload)}`;
      return `${input}.${sign('sha256', Buffer.from(input), keyPem).toString('base64url')}`;
    }

    before(async () => {
      const folder = mkdtempSync(join(dataDir, 'certificate-'));
      const key = join(folder, 'key.pem');
      const certificate = join(folder, 'certificate.pem');
      const pfxFile = join(folder, 'certificate.pfx');
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key,
        '-out', certificate, '-subj', '/CN=jwt-signer.example', '-days', '2'], { stdio: 'pipe' });
      execFileSync('openssl', ['pkcs12', '-export', '-inkey', key, '-in', certificate,
        '-out', pfxFile, '-passout', 'pass:pfx-password'], { stdio: 'pipe' });
      keyPem = readFileSync(key, 'utf8');
      certificatePem = readFileSync(certificate, 'utf8');
      pfx = readFileSync(pfxFile).toString('base64');
      await manage('PUT', '/certificates/jwt-signer', {
        properties: { data: pfx, password: 'pfx-password' },
      });
      await putOperation('jwt-certificate', {
        inbound: `<validate-jwt header-name="Authorization">
          <issuer-signing-keys><key certificate-id="jwt-signer"/></issuer-signing-keys>
        </validate-jwt>`,
      });
      await putOperation('jwt-encrypted', {
        inbound: `<validate-jwt header-name="Authorization">
          <issuer-signing-keys><key certificate-id="jwt-signer"/></issuer-signing-keys>
          <decryption-keys>
            <key certificate-id="jwt-signer"/>
            <key>${directKey.toString('base64')}</key>
          </decryption-keys>
        </validate-jwt>`,
      });
    });

    // Encrypts an RS256 token of the certificate key as a compact JWE.
    async function encryptedToken(alg, enc) {
      const inner = signWithCertificateKey({ sub: 'alice', exp: Math.floor(Date.now() / 1000) + 300 });
      const key = alg === 'dir' ? directKey : await jose.importX509(certificatePem, alg);
      return new jose.CompactEncrypt(new TextEncoder().encode(inner))
        .setProtectedHeader({ alg, enc, cty: 'JWT' })
        .encrypt(key);
    }

    for (const [alg, enc] of [['RSA-OAEP-256', 'A256GCM'], ['RSA-OAEP', 'A128CBC-HS256'],
      ['dir', 'A128CBC-HS256']]) {
      test(`JWE ${alg} ${enc} decrypts and passes`, async () => {
        const token = await encryptedToken(alg, enc);
        const response = await call('/jwt-encrypted', { authorization: `Bearer ${token}` });
        assert.equal(response.status, 200, response.text);
      });
    }

    test('JWE with a tampered tag gets 401', async () => {
      const token = await encryptedToken('RSA-OAEP-256', 'A256GCM');
      const tampered = token.slice(0, -2) + (token.at(-2) === 'A' ? 'B' : 'A') + token.at(-1);
      const response = await call('/jwt-encrypted', { authorization: `Bearer ${tampered}` });
      assert.equal(response.status, 401, response.text);
    });

    test('JWE sent to a statement without decryption keys gets 401', async () => {
      const token = await encryptedToken('dir', 'A128CBC-HS256');
      const response = await call('/jwt-certificate', { authorization: `Bearer ${token}` });
      assert.equal(response.status, 401, response.text);
    });

    test('GET shows subject and thumbprint but no data', async () => {
      const response = await credgate.manage('GET', '/certificates/jwt-signer');
      assert.equal(response.status, 200, response.text);
      assert.equal(response.json.properties.subject, 'CN=jwt-signer.example');
      assert.match(response.json.properties.thumbprint, /^[0-9A-F]{40}$/);
      assert.match(response.json.properties.expirationDate, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      assert.doesNotMatch(response.text, /pfx-password/);
      assert.equal(response.json.properties.data, undefined);
    });

    test('wrong password rejected naming it', async () => {
      const response = await credgate.manage('PUT', '/certificates/bad-password', {
        properties: { data: pfx, password: 'other' },
      });
      assert.equal(response.status, 400, response.text);
      assert.match(response.text, /the password does not match the PKCS#12 data/);
    });

    test('token signed with the certificate key passes', async () => {
      const token = signWithCertificateKey({ sub: 'alice', exp: Math.floor(Date.now() / 1000) + 300 });
      const response = await call('/jwt-certificate', { authorization: `Bearer ${token}` });
      assert.equal(response.status, 200, response.text);
    });

    test('token signed with another key gets 401', async () => {
      const payload = { sub: 'alice', exp: Math.floor(Date.now() / 1000) + 300 };
      const response = await call('/jwt-certificate', {
        authorization: `Bearer ${signWithForeignKey(payload)}`,
      });
      assert.equal(response.status, 401, response.text);
    });

    test('missing certificate id rejected at save', async () => {
      const response = await tryPolicy('jwt-no-certificate',
        '<validate-jwt header-name="Authorization"><issuer-signing-keys>' +
        '<key certificate-id="absent"/></issuer-signing-keys></validate-jwt>');
      assert.equal(response.status, 400, response.text);
      assert.match(response.text, /certificate 'absent' was not found/);
    });

    test('delete of a used certificate gets 409', async () => {
      const response = await credgate.manage('DELETE', '/certificates/jwt-signer');
      assert.equal(response.status, 409, response.text);
      assert.match(response.text, /\/apis\/pol\/operations\/jwt-certificate\/policies\/policy/);
    });
  });

  describe('request bodies', () => {
    before(async () => {
      await putOperation('body-transform', {
        method: 'POST',
        inbound: `<set-body>@{
            var body = context.Request.Body.As<JObject>();
            body["added"] = "yes";
            return body.ToString();
          }</set-body>`,
      });
      await putOperation('body-literal', {
        method: 'POST',
        inbound: '<set-body>replaced</set-body>',
      });
      await putOperation('body-read', {
        method: 'POST',
        inbound: `<set-header name="x-length" exists-action="override">
            <value>@(context.Request.Body.As<string>().Length.ToString())</value></set-header>`,
      });
    });

    function post(path, body, headers = {}) {
      return fetchJson(`${credgate.gatewayUrl}/pol${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
      });
    }

    test('inbound set-body transforms the JSON body', async () => {
      const count = echo.requests.length;
      const response = await post('/body-transform', '{"a":1}');
      assert.equal(response.status, 200, response.text);
      const seen = lastBackendRequest(count);
      assert.deepEqual(JSON.parse(seen.body), { a: 1, added: 'yes' });
      assert.equal(seen.headers['content-length'], String(Buffer.byteLength(seen.body)));
    });

    test('inbound set-body replaces a streamed body', async () => {
      const count = echo.requests.length;
      const response = await post('/body-literal', '{"a":1}');
      assert.equal(response.status, 200, response.text);
      const seen = lastBackendRequest(count);
      assert.equal(seen.body, 'replaced');
      assert.equal(seen.headers['content-length'], '8');
    });

    test('a body the policy reads is forwarded unchanged', async () => {
      const count = echo.requests.length;
      const response = await post('/body-read', 'twelve bytes');
      assert.equal(response.status, 200, response.text);
      const seen = lastBackendRequest(count);
      assert.equal(seen.body, 'twelve bytes');
      assert.equal(seen.headers['x-length'], '12');
    });

    test('a body over 4 MiB that the policy reads gets 413', async () => {
      // The gateway responds after the header, from its Content-Length, so the test sends only
      // the header and reads the response.
      const url = new URL(`${credgate.gatewayUrl}/pol/body-read`);
      const status = await new Promise((resolve, reject) => {
        const request = httpRequest(
          { host: url.hostname, port: url.port, path: url.pathname, method: 'POST',
            headers: { 'content-length': String(4 * 1024 * 1024 + 1) } },
          (response) => {
            response.resume();
            resolve(response.statusCode);
          });
        request.on('error', reject);
        request.flushHeaders();
      });
      assert.equal(status, 413);
    });
  });

  describe('policy fragments', () => {
    function fragmentBody(header, value) {
      return {
        properties: {
          format: 'rawxml',
          description: 'Adds a header',
          value: `<fragment>
  <set-header name="${header}" exists-action="override"><value>${value}</value></set-header>
</fragment>`,
        },
      };
    }

    before(async () => {
      await manage('PUT', '/policyFragments/stamp', fragmentBody('x-stamp', 'one'));
      await putOperation('fragment', { inbound: '<include-fragment fragment-id="stamp"/>' });
    });

    test('included statements reach the backend', async () => {
      const count = echo.requests.length;
      const response = await call('/fragment');
      assert.equal(response.status, 200, response.text);
      assert.equal(lastBackendRequest(count).headers['x-stamp'], 'one');
      const listed = await manage('GET', '/policyFragments');
      assert.deepEqual(listed.value.map((fragment) => fragment.name), ['stamp']);
      assert.equal(listed.value[0].properties.description, 'Adds a header');
    });

    test('changed fragment changes the policy', async () => {
      await manage('PUT', '/policyFragments/stamp', fragmentBody('x-stamp', 'two'));
      const count = echo.requests.length;
      const response = await call('/fragment');
      assert.equal(response.status, 200, response.text);
      assert.equal(lastBackendRequest(count).headers['x-stamp'], 'two');
    });

    test('missing fragment rejected at save', async () => {
      const response = await tryPolicy('fragment-missing', '<include-fragment fragment-id="absent"/>');
      assert.equal(response.status, 400, response.text);
      assert.match(response.text, /policy fragment 'absent' was not found/);
    });

    test('fragment in use cannot be deleted', async () => {
      const response = await credgate.manage('DELETE', '/policyFragments/stamp');
      assert.equal(response.status, 409, response.text);
      assert.match(response.text, /\/apis\/pol\/operations\/fragment\/policies\/policy/);
    });

    test('fragment survives a restart', async () => {
      await credgate.stop();
      await credgate.start();
      const count = echo.requests.length;
      const response = await call('/fragment');
      assert.equal(response.status, 200, response.text);
      assert.equal(lastBackendRequest(count).headers['x-stamp'], 'two');
    });
  });
});
