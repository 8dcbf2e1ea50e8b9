// A loopback HTTP backend for policy tests that responds to every request with 200 and JSON
// {method, url, headers, body} describing it, and appends that description to echo.requests.
// A path /flaky/{key}/{n}... fails the first n requests with that key with 503, for retries,
// and /redirect/{status}?to={location} responds with that status and Location.

import { createServer } from 'node:http';

import { freePort } from './processes.mjs';

export async function startEchoBackend() {
  const server = createServer((request, response) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      const seen = {
        method: request.method,
        url: request.url,
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      echo.requests.push(seen);
      const redirect = /^\/redirect\/(\d{3})\?to=(.*)$/.exec(request.url);
      if (redirect) {
        response.writeHead(Number(redirect[1]), { location: decodeURIComponent(redirect[2]) });
        response.end();
        return;
      }
      const flaky = /^\/flaky\/([\w-]+)\/(\d+)/.exec(request.url);
      if (flaky) {
        const failed = echo.failures.get(flaky[1]) ?? 0;
        if (failed < Number(flaky[2])) {
          echo.failures.set(flaky[1], failed + 1);
          response.writeHead(503, { 'content-type': 'text/plain' });
          response.end(`failure ${failed + 1} of ${flaky[2]}`);
          return;
        }
      }
      response.writeHead(200, {
        'content-type': 'application/json',
        'x-backend': 'echo',
        'x-powered-by': 'echo-backend',
      });
      response.end(JSON.stringify(seen));
    });
  });
  const echo = { requests: [], failures: new Map(), server };
  const port = await freePort();
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  echo.url = `http://127.0.0.1:${port}`;
  return echo;
}
