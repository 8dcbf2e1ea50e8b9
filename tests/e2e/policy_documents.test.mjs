// Whole policy documents of the kinds that APIM users write, run unchanged through the credgate
// binary. Each row of the table below puts one document on its own operation of the API "docs",
// in front of a loopback echo backend, and sends one request. It then checks the request that
// the backend received (or that none arrived) and the response that the caller got. The documents
// follow the patterns of APIM's policy reference and samples: header and query rewriting,
// routing by version, JSON body transformation, response filtering, JWT claims to headers,
// on-error responses, enrichment with send-request, mocking, fragments, the value cache, and
// backend calls inside retry and limit-concurrency.
//
//   CREDGATE_BIN=build/src/app/credgate node --test tests/e2e/policy_documents.test.mjs
//
// Skipped when the binary does not exist, unless CREDGATE_E2E_REQUIRED=1 makes that a failure.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { credgateBinaryExists, Credgate, kCredgateBin } from './lib/credgate.mjs';
import { startEchoBackend } from './lib/echo_backend.mjs';
import { freePort, kOutputDir, stopAll } from './lib/processes.mjs';
import { removeTestDir } from './lib/secrets.mjs';
import { fetchJson } from './lib/tokens.mjs';

const skip =
  !credgateBinaryExists() && process.env.CREDGATE_E2E_REQUIRED !== '1'
    ? `credgate binary not found at ${kCredgateBin}: build it or set CREDGATE_BIN`
    : false;

// The HS256 key of the validate-jwt document: 32 bytes, the least RFC 7518 §3.2 allows. It is
// not given to the secret scan: a key written inline in a policy is part of the document, which
// credgate stores as written (docs/security.md).
const kJwtKey = Buffer.from('policy-documents-test-key-32-byt');

function base64url(value) {
  return Buffer.from(value).toString('base64url');
}

function signHs256(claims) {
  const header = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const payload = base64url(JSON.stringify(claims));
  const signature = createHmac('sha256', kJwtKey).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${signature}`;
}

const kNow = () => Math.floor(Date.now() / 1000);

// One row per document. `policy` is the whole document, and `request` is sent to
// {gateway}/docs{path}. `backend` checks the request that the echo backend received, or is null
// when none may arrive. `response` checks the caller's response.
const kDocuments = [
  {
    name: 'correlation id and header cleanup',
    policy: `<policies>
  <inbound>
    <set-header name="X-Correlation-Id" exists-action="skip">
      <value>@(context.RequestId.ToString())</value>
    </set-header>
    <set-header name="X-Internal-Debug" exists-action="delete" />
  </inbound>
  <backend><forward-request /></backend>
  <outbound>
    <set-header name="X-Powered-By" exists-action="delete" />
    <set-header name="X-Correlation-Id" exists-action="override">
      <value>@(context.Request.Headers.GetValueOrDefault("X-Correlation-Id", ""))</value>
    </set-header>
  </outbound>
</policies>`,
    request: { path: '/headers', headers: { 'x-internal-debug': '1', 'x-correlation-id': 'c-42' } },
    backend: (seen) => {
      assert.equal(seen.headers['x-correlation-id'], 'c-42');
      assert.equal(seen.headers['x-internal-debug'], undefined);
    },
    response: (response) => {
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('x-powered-by'), null);
      assert.equal(response.headers.get('x-correlation-id'), 'c-42');
    },
  },
  {
    name: 'api key moved from query to header',
    policy: `<policies>
  <inbound>
    <choose>
      <when condition="@(context.Request.Url.Query.ContainsKey(&quot;api-key&quot;))">
        <set-header name="Ocp-Apim-Subscription-Key" exists-action="override">
          <value>@(context.Request.Url.Query.GetValueOrDefault("api-key"))</value>
        </set-header>
        <set-query-parameter name="api-key" exists-action="delete" />
      </when>
    </choose>
  </inbound>
</policies>`,
    request: { path: '/query-key?api-key=k1&page=2' },
    backend: (seen) => {
      assert.equal(seen.url, '/query-key?page=2');
      assert.equal(seen.headers['ocp-apim-subscription-key'], 'k1');
    },
    response: (response) => assert.equal(response.status, 200),
  },
  {
    name: 'routing by version header',
    template: '/orders/{id}',
    policy: `<policies>
  <inbound>
    <choose>
      <when condition="@(context.Request.Headers.GetValueOrDefault(&quot;Api-Version&quot;, &quot;1&quot;) == &quot;2&quot;)">
        <rewrite-uri template="/v2/orders/{id}" />
      </when>
      <otherwise>
        <rewrite-uri template="/v1/orders/{id}?legacy=true" />
      </otherwise>
    </choose>
  </inbound>
</policies>`,
    request: { path: '/orders/7', headers: { 'api-version': '2' } },
    backend: (seen) => assert.equal(seen.url, '/v2/orders/7'),
    response: (response) => assert.equal(response.status, 200),
  },
  {
    name: 'request JSON reshaped for the backend',
    method: 'POST',
    policy: `<policies>
  <inbound>
    <set-header name="Content-Type" exists-action="override"><value>application/json</value></set-header>
    <set-body>@{
      var input = context.Request.Body.As<JObject>();
      var output = new JObject();
      output["customerId"] = input["id"];
      output["fullName"] = (string)input["first"] + " " + (string)input["last"];
      output["source"] = "gateway";
      return output.ToString();
    }</set-body>
  </inbound>
</policies>`,
    request: {
      path: '/reshape',
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 12, first: 'Ada', last: 'Lovelace' }),
    },
    backend: (seen) => {
      assert.deepEqual(JSON.parse(seen.body), {
        customerId: 12,
        fullName: 'Ada Lovelace',
        source: 'gateway',
      });
      assert.equal(seen.headers['content-length'], String(Buffer.byteLength(seen.body)));
    },
    response: (response) => assert.equal(response.status, 200),
  },
  {
    name: 'JSON request turned into SOAP with a Liquid template',
    method: 'POST',
    policy: `<policies>
  <inbound>
    <set-body template="liquid">
      <soap:Envelope xmlns="http://tempuri.org/" xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">
        <soap:Body>
          <GetOpenOrders>
            <cust>{{body.getOpenOrders.cust | Upcase}}</cust>
            {% for line in body.getOpenOrders.lines %}<line n="{{forloop.index}}">{{line.sku}}</line>{% endfor %}
            <via>{{context.Request.Headers["X-Channel"] | Default: "web"}}</via>
          </GetOpenOrders>
        </soap:Body>
      </soap:Envelope>
    </set-body>
    <set-header name="Content-Type" exists-action="override"><value>text/xml</value></set-header>
  </inbound>
</policies>`,
    request: {
      path: '/soap',
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-channel': 'mobile' },
      body: JSON.stringify({ getOpenOrders: { cust: 'c-7', lines: [{ sku: 'a1' }, { sku: 'b2' }] } }),
    },
    backend: (seen) => {
      assert.equal(seen.headers['content-type'], 'text/xml');
      assert.match(seen.body, /^<soap:Envelope xmlns="http:\/\/tempuri.org\/"/);
      assert.match(seen.body, /<cust>C-7<\/cust>/);
      assert.match(seen.body, /<line n="1">a1<\/line><line n="2">b2<\/line>/);
      assert.match(seen.body, /<via>mobile<\/via>/);
      assert.equal(seen.headers['content-length'], String(Buffer.byteLength(seen.body)));
    },
    response: (response) => assert.equal(response.status, 200),
  },
  {
    name: 'backend response reshaped with a Liquid template',
    policy: `<policies>
  <inbound><base /></inbound>
  <outbound>
    <set-body template="liquid">{"call": "{{body.method}} {{body.url}}", "status": {{context.Response.StatusCode}}{% if body.headers["x-trace"] %}, "traced": true{% endif %}}</set-body>
  </outbound>
</policies>`,
    request: { path: '/liquid-out', headers: { 'x-trace': '1' } },
    backend: (seen) => assert.equal(seen.url, '/liquid-out'),
    response: (response) => {
      assert.equal(response.status, 200);
      assert.deepEqual(response.json, { call: 'GET /liquid-out', status: 200, traced: true });
    },
  },
  {
    name: 'initializers and header values as string arrays',
    policy: `<policies>
  <inbound>
    <return-response>
      <set-status code="200" reason="OK" />
      <set-header name="Content-Type" exists-action="override"><value>application/json</value></set-header>
      <set-body>@{
        string[] accepted;
        context.Request.Headers.TryGetValue("Accept", out accepted);
        var result = new JObject {
          ["accepts"] = new JArray(accepted),
          { "first", accepted[0] },
          ["parts"] = new JArray { "a-b".Split('-')[1], 2 }
        };
        return result.ToString();
      }</set-body>
    </return-response>
  </inbound>
</policies>`,
    request: { path: '/arrays', headers: { accept: 'text/html, application/json;q=0.9' } },
    backend: null,
    response: (response) => {
      assert.equal(response.status, 200);
      assert.deepEqual(response.json, {
        accepts: ['text/html', 'application/json;q=0.9'],
        first: 'text/html',
        parts: ['b', 2],
      });
    },
  },
  {
    name: 'response fields filtered',
    policy: `<policies>
  <inbound><base /></inbound>
  <outbound>
    <set-body>@{
      var body = context.Response.Body.As<JObject>();
      body.Remove("headers");
      body["filtered"] = true;
      return body.ToString();
    }</set-body>
  </outbound>
</policies>`,
    request: { path: '/filtered' },
    backend: (seen) => assert.equal(seen.url, '/filtered'),
    response: (response) => {
      assert.equal(response.status, 200);
      assert.equal(response.json.headers, undefined);
      assert.equal(response.json.filtered, true);
      assert.equal(response.json.method, 'GET');
    },
  },
  {
    name: 'JWT claims become backend headers',
    policy: `<policies>
  <inbound>
    <validate-jwt header-name="Authorization" failed-validation-httpcode="401"
        failed-validation-error-message="Unauthorized. Access token is missing or invalid."
        require-scheme="Bearer" output-token-variable-name="jwt">
      <issuer-signing-keys><key>${kJwtKey.toString('base64')}</key></issuer-signing-keys>
      <audiences><audience>api://orders</audience></audiences>
      <issuers><issuer>https://issuer.example</issuer></issuers>
      <required-claims>
        <claim name="roles" match="any"><value>orders.read</value><value>orders.admin</value></claim>
      </required-claims>
    </validate-jwt>
    <set-header name="X-User" exists-action="override">
      <value>@(((Jwt)context.Variables["jwt"]).Subject)</value>
    </set-header>
    <set-header name="X-Tenant" exists-action="override">
      <value>@(((Jwt)context.Variables["jwt"]).Claims.GetValueOrDefault("tid", "none"))</value>
    </set-header>
  </inbound>
</policies>`,
    request: () => ({
      path: '/claims',
      headers: {
        authorization: `Bearer ${signHs256({
          iss: 'https://issuer.example',
          aud: 'api://orders',
          sub: 'user-9',
          tid: 't-1',
          roles: ['orders.read'],
          exp: kNow() + 300,
        })}`,
      },
    }),
    backend: (seen) => {
      assert.equal(seen.headers['x-user'], 'user-9');
      assert.equal(seen.headers['x-tenant'], 't-1');
    },
    response: (response) => assert.equal(response.status, 200),
  },
  {
    name: 'JWT without the role is rejected with the configured message',
    template: '/claims-denied',
    policy: `<policies>
  <inbound>
    <validate-jwt header-name="Authorization" failed-validation-httpcode="403"
        failed-validation-error-message="Forbidden">
      <issuer-signing-keys><key>${kJwtKey.toString('base64')}</key></issuer-signing-keys>
      <required-claims><claim name="roles"><value>orders.admin</value></claim></required-claims>
    </validate-jwt>
  </inbound>
  <on-error>
    <set-header name="X-Error-Reason" exists-action="override">
      <value>@(context.LastError.Reason)</value>
    </set-header>
  </on-error>
</policies>`,
    request: () => ({
      path: '/claims-denied',
      headers: {
        authorization: `Bearer ${signHs256({ sub: 'user-9', roles: ['orders.read'], exp: kNow() + 300 })}`,
      },
    }),
    backend: null,
    response: (response) => {
      assert.equal(response.status, 403);
      assert.equal(response.json.message, 'Forbidden');
      assert.equal(response.headers.get('x-error-reason'), 'TokenClaimValueNotAllowed');
    },
  },
  {
    name: 'on-error returns a problem document',
    policy: `<policies>
  <inbound>
    <check-header name="X-Client" failed-check-httpcode="400"
        failed-check-error-message="X-Client is required" ignore-case="true">
      <value>web</value><value>mobile</value>
    </check-header>
  </inbound>
  <on-error>
    <return-response>
      <set-status code="@(context.Response.StatusCode)" reason="Rejected" />
      <set-header name="Content-Type" exists-action="override"><value>application/problem+json</value></set-header>
      <set-body>@{
        var problem = new JObject();
        problem["title"] = context.LastError.Message;
        problem["reason"] = context.LastError.Reason;
        problem["source"] = context.LastError.Source;
        problem["requestId"] = context.RequestId.ToString();
        return problem.ToString();
      }</set-body>
    </return-response>
  </on-error>
</policies>`,
    request: { path: '/problem', headers: { 'x-client': 'desktop' } },
    backend: null,
    response: (response) => {
      assert.equal(response.status, 400);
      assert.equal(response.headers.get('content-type'), 'application/problem+json');
      assert.equal(response.json.reason, 'HeaderValueNotAllowed');
      assert.equal(response.json.source, 'check-header');
      assert.equal(response.json.title, 'X-Client is required');
    },
  },
  {
    name: 'enrichment from a lookup service',
    policy: (echoUrl) => `<policies>
  <inbound>
    <send-request mode="new" response-variable-name="lookup" timeout="10" ignore-error="false">
      <set-url>@("${echoUrl}/lookup/" + context.Request.Headers.GetValueOrDefault("X-Customer", "unknown"))</set-url>
      <set-method>GET</set-method>
    </send-request>
    <set-header name="X-Customer-Lookup" exists-action="override">
      <value>@(((IResponse)context.Variables["lookup"]).Body.As<JObject>()["url"].ToString())</value>
    </set-header>
  </inbound>
</policies>`,
    request: { path: '/enrich', headers: { 'x-customer': 'c7' } },
    backendCount: 2,
    backend: (seen, all) => {
      assert.equal(all.at(-2).url, '/lookup/c7');
      assert.equal(seen.headers['x-customer-lookup'], '/lookup/c7');
    },
    response: (response) => assert.equal(response.status, 200),
  },
  {
    name: 'lookup response returned as it is',
    policy: (echoUrl) => `<policies>
  <inbound>
    <send-request mode="copy" response-variable-name="upstream">
      <set-url>${echoUrl}/mirror</set-url>
    </send-request>
    <return-response response-variable-name="upstream">
      <set-header name="X-Served-By" exists-action="override"><value>policy</value></set-header>
    </return-response>
  </inbound>
</policies>`,
    request: { path: '/mirror', method: 'POST', body: 'hello' },
    method: 'POST',
    backend: (seen) => {
      assert.equal(seen.url, '/mirror');
      assert.equal(seen.body, 'hello');
    },
    response: (response) => {
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('x-served-by'), 'policy');
      assert.equal(response.json.body, 'hello');
    },
  },
  {
    name: 'health check answered by the gateway',
    policy: `<policies>
  <inbound>
    <return-response>
      <set-status code="200" reason="OK" />
      <set-header name="Content-Type" exists-action="override"><value>application/json</value></set-header>
      <set-body>@("{\\"status\\":\\"healthy\\",\\"gateway\\":\\"" + context.Deployment.ServiceName + "\\"}")</set-body>
    </return-response>
  </inbound>
</policies>`,
    request: { path: '/health' },
    backend: null,
    response: (response) => {
      assert.equal(response.status, 200);
      assert.deepEqual(response.json, { status: 'healthy', gateway: 'credgate' });
    },
  },
  {
    name: 'shared fragment and cached lookup',
    policy: `<policies>
  <inbound>
    <include-fragment fragment-id="docs-common" />
    <cache-lookup-value key="@("tenant-" + context.Request.Headers.GetValueOrDefault("X-Tenant", "none"))"
        variable-name="tenantName" default-value="unknown" />
    <choose>
      <when condition="@((string)context.Variables[&quot;tenantName&quot;] == &quot;unknown&quot;)">
        <cache-store-value key="@("tenant-" + context.Request.Headers.GetValueOrDefault("X-Tenant", "none"))"
            value="@("name-of-" + context.Request.Headers.GetValueOrDefault("X-Tenant", "none"))" duration="60" />
      </when>
    </choose>
    <set-header name="X-Tenant-Cached" exists-action="override">
      <value>@((string)context.Variables["tenantName"])</value>
    </set-header>
  </inbound>
</policies>`,
    request: { path: '/fragment-cache', headers: { 'x-tenant': 't9' } },
    backend: (seen) => {
      assert.equal(seen.headers['x-gateway'], 'credgate');
      assert.equal(seen.headers['x-tenant-cached'], 'unknown');
    },
    response: (response) => assert.equal(response.status, 200),
  },
  {
    name: 'backend call retried while it answers 5xx',
    method: 'POST',
    policy: `<policies>
  <inbound><base /></inbound>
  <backend>
    <retry condition="@(context.Response.StatusCode >= 500)" count="3" interval="1"
           first-fast-retry="true">
      <forward-request buffer-request-body="true" timeout="20" />
    </retry>
  </backend>
  <outbound>
    <set-header name="X-Backend-Status" exists-action="override">
      <value>@(context.Response.StatusCode.ToString())</value>
    </set-header>
  </outbound>
</policies>`,
    request: {
      path: '/flaky/orders/2',
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"order":17}',
    },
    backendCount: 3,
    backend: (seen, all) => {
      for (const attempt of all.slice(-3)) {
        assert.equal(attempt.method, 'POST');
        assert.equal(attempt.url, '/flaky/orders/2');
        assert.equal(attempt.body, '{"order":17}');
      }
    },
    response: (response) => {
      assert.equal(response.status, 200, response.text);
      assert.equal(response.json.body, '{"order":17}');
      assert.equal(response.headers.get('x-backend-status'), '200');
      assert.equal(response.headers.get('x-backend'), 'echo');
    },
  },
  {
    name: 'retries exhausted return the backend failure',
    policy: `<policies>
  <inbound><base /></inbound>
  <backend>
    <retry condition="@(context.Response.StatusCode == 503)" count="2" interval="0">
      <forward-request />
    </retry>
  </backend>
  <outbound><base /></outbound>
</policies>`,
    request: { path: '/flaky/always/100' },
    backendCount: 3,
    backend: (seen) => assert.equal(seen.url, '/flaky/always/100'),
    response: (response) => {
      assert.equal(response.status, 503);
      assert.equal(response.text, 'failure 3 of 100');
    },
  },
  {
    name: 'backend error status handled in on-error',
    policy: `<policies>
  <inbound><base /></inbound>
  <backend>
    <forward-request fail-on-error-status-code="true" />
  </backend>
  <outbound><base /></outbound>
  <on-error>
    <return-response>
      <set-status code="503" reason="Service Unavailable" />
      <set-header name="Content-Type" exists-action="override">
        <value>application/problem+json</value>
      </set-header>
      <set-body>@(new JObject(
        new JProperty("title", "Upstream unavailable"),
        new JProperty("reason", context.LastError.Reason),
        new JProperty("source", context.LastError.Source)).ToString())</set-body>
    </return-response>
  </on-error>
</policies>`,
    request: { path: '/flaky/status/1' },
    backend: (seen) => assert.equal(seen.url, '/flaky/status/1'),
    response: (response) => {
      assert.equal(response.status, 503);
      assert.equal(response.headers.get('content-type'), 'application/problem+json');
      assert.deepEqual(response.json, {
        title: 'Upstream unavailable',
        reason: 'BackendError',
        source: 'forward-request',
      });
    },
  },
  {
    name: 'redirect followed with the same method and body',
    method: 'POST',
    template: '/redirect/307',
    policy: `<policies>
  <inbound>
    <set-header name="Authorization" exists-action="override"><value>Bearer backend-key</value></set-header>
  </inbound>
  <backend><forward-request follow-redirects="true" /></backend>
  <outbound><base /></outbound>
</policies>`,
    request: {
      path: '/redirect/307?to=%2Fdocs-final%2Forders',
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'order 18',
    },
    backendCount: 2,
    backend: (seen) => {
      assert.equal(seen.url, '/docs-final/orders');
      assert.equal(seen.method, 'POST');
      assert.equal(seen.body, 'order 18');
      assert.equal(seen.headers.authorization, 'Bearer backend-key');
    },
    response: (response) => {
      assert.equal(response.status, 200, response.text);
      assert.equal(response.json.url, '/docs-final/orders');
    },
  },
  {
    name: 'see-other redirect followed as a GET',
    method: 'POST',
    template: '/redirect/303',
    policy: `<policies>
  <inbound><base /></inbound>
  <backend><forward-request follow-redirects="true" /></backend>
  <outbound><base /></outbound>
</policies>`,
    request: {
      path: '/redirect/303?to=%2Freceipts%2F18',
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'order 18',
    },
    backendCount: 2,
    backend: (seen) => {
      assert.equal(seen.url, '/receipts/18');
      assert.equal(seen.method, 'GET');
      assert.equal(seen.body, '');
    },
    response: (response) => assert.equal(response.json.method, 'GET'),
  },
  {
    name: 'redirect returned when not followed',
    template: '/redirect/302',
    policy: `<policies>
  <inbound><base /></inbound>
  <backend><forward-request /></backend>
  <outbound><base /></outbound>
</policies>`,
    request: { path: '/redirect/302?to=%2Felsewhere' },
    backend: (seen) => assert.equal(seen.url, '/redirect/302?to=%2Felsewhere'),
    response: (response) => {
      assert.equal(response.status, 302);
      assert.equal(response.headers.get('location'), '/elsewhere');
    },
  },
  {
    name: 'concurrency limited per connection around the backend call',
    policy: `<policies>
  <inbound>
    <set-variable name="connectionId" value="@(context.Request.Headers.GetValueOrDefault(&quot;X-Connection&quot;, &quot;none&quot;))" />
  </inbound>
  <backend>
    <limit-concurrency key="@((string)context.Variables[&quot;connectionId&quot;])" max-count="3">
      <forward-request timeout="120" />
    </limit-concurrency>
  </backend>
  <outbound><base /></outbound>
</policies>`,
    request: { path: '/limited', headers: { 'x-connection': 'c-1' } },
    backend: (seen) => assert.equal(seen.headers['x-connection'], 'c-1'),
    response: (response) => {
      assert.equal(response.status, 200);
      assert.equal(response.json.url, '/limited');
    },
  },
];

describe('real-world policy documents', { skip, timeout: 120000 }, () => {
  let echo;
  let credgate;
  let dataDir;

  before(async () => {
    const [gatewayPort, managementPort] = await Promise.all([freePort(), freePort()]);
    mkdirSync(kOutputDir, { recursive: true });
    dataDir = mkdtempSync(join(kOutputDir, 'policy-documents-'));
    echo = await startEchoBackend();
    credgate = new Credgate({ gatewayPort, managementPort, dataDir, name: 'policy-documents' });
    await credgate.start();
    await manage('PUT', '/apis/docs', {
      properties: { displayName: 'Documents', path: 'docs', serviceUrl: echo.url },
    });
    await manage('PUT', '/policyFragments/docs-common', {
      properties: {
        format: 'rawxml',
        description: 'Headers every API of the test adds',
        value: `<fragment>
  <set-header name="X-Gateway" exists-action="override"><value>credgate</value></set-header>
</fragment>`,
      },
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

  kDocuments.forEach((document, index) => {
    test(document.name, async () => {
      const id = `doc-${index}`;
      const request = typeof document.request === 'function' ? document.request() : document.request;
      const template = document.template ?? request.path.split('?')[0];
      await manage('PUT', `/apis/docs/operations/${id}`, {
        properties: { method: document.method ?? 'GET', urlTemplate: template },
      });
      const policy =
        typeof document.policy === 'function' ? document.policy(echo.url) : document.policy;
      await manage('PUT', `/apis/docs/operations/${id}/policies/policy`, {
        properties: { format: 'rawxml', value: policy },
      });

      const count = echo.requests.length;
      const response = await fetchJson(`${credgate.gatewayUrl}/docs${request.path}`, {
        method: request.method ?? 'GET',
        headers: request.headers ?? {},
        body: request.body,
      });
      if (document.backend === null) {
        assert.equal(echo.requests.length, count, 'the backend received a request');
      } else {
        assert.equal(echo.requests.length, count + (document.backendCount ?? 1),
                     `backend requests; response ${response.status}: ${response.text}`);
        document.backend(echo.requests.at(-1), echo.requests);
      }
      document.response(response);
    });
  });
});
