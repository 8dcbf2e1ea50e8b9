// A loopback HTTP backend for policy tests that responds to every request with 200 and JSON
// {method, url, headers, body} describing it, and appends that description to echo.requests.

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
      response.writeHead(200, {
        'content-type': 'application/json',
        'x-backend': 'echo',
        'x-powered-by': 'echo-backend',
      });
      response.end(JSON.stringify(seen));
    });
  });
  const echo = { requests: [], server };
  const port = await freePort();
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  echo.url = `http://127.0.0.1:${port}`;
  return echo;
}
