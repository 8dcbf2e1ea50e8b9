// Signs a user in through a login link in headless chromium (Debian's /usr/bin/chromium driven
// by playwright-core).
//
//   node testenv/login.mjs --link URL --user alice [--password any] --expect-prefix URL
//                          [--screenshot-dir DIR] [--timeout SECONDS]
//
// Opens the link, continues on credgate's confirmation page, fills oidc-provider's development
// login form, approves its consent page and waits until the browser lands on a URL that starts
// with --expect-prefix. Exit status 0 prints
// {"landed":URL} on stdout. Status 1 means the browser stopped on any other page (an error page,
// for example) or the time ran out, and stderr then contains the page's URL and text. Status 2 is
// a usage error. Requests to hosts other than 127.0.0.1, ::1 and localhost are aborted.

import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { chromium } from 'playwright-core';

import { parseCommandLine, parseSeconds } from './common.mjs';

const kUsage =
  'usage: node testenv/login.mjs --link URL --user NAME [--password TEXT] --expect-prefix URL ' +
  '[--screenshot-dir DIR] [--timeout SECONDS]';
const kLoopbackHosts = new Set(['127.0.0.1', '[::1]', 'localhost']);
const kChromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Hosts other than 127.0.0.1, ::1 and localhost resolve to nothing, so pages stay on loopback.
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE [::1], EXCLUDE localhost',
];
// Interval between looks at the page while it redirects on its own.
const kSettleMs = 250;
// How long a page that is neither a known form nor the target may stay before it counts as the
// place the flow stopped.
const kStuckMs = 3000;

const args = parseCommandLine(
  {
    link: { type: 'string' },
    user: { type: 'string' },
    password: { type: 'string', default: 'any' },
    'expect-prefix': { type: 'string' },
    'screenshot-dir': { type: 'string' },
    timeout: { type: 'string', default: '30' },
  },
  kUsage,
);
for (const name of ['link', 'user', 'expect-prefix']) {
  if (!args[name]) {
    process.stderr.write(`missing --${name}\n${kUsage}\n`);
    process.exit(2);
  }
}
const timeoutMs = parseSeconds('timeout', args.timeout) * 1000;

const userDataDir = await mkdtemp(join(tmpdir(), 'credgate-chromium-'));
let context;
let exitCode = 1;
try {
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: kChromiumArgs,
    timeout: timeoutMs,
  });
  await context.route('**/*', (route) => {
    const { hostname } = new URL(route.request().url());
    return kLoopbackHosts.has(hostname) ? route.continue() : route.abort('blockedbyclient');
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(timeoutMs);
  exitCode = await signIn(page);
} catch (error) {
  process.stderr.write(`login: ${error.message}\n`);
} finally {
  await context?.close().catch(() => {});
  await rm(userDataDir, { recursive: true, force: true });
}
process.exit(exitCode);

// Walks the sign-in pages until the target URL, an unknown page or the deadline. Returns the
// exit status.
async function signIn(page) {
  const deadline = Date.now() + timeoutMs;
  let step = 0;
  let lastResponseStatus = 0;
  page.on('response', (response) => {
    if (response.request().isNavigationRequest() && response.frame() === page.mainFrame()) {
      lastResponseStatus = response.status();
    }
  });

  await page.goto(args.link, { waitUntil: 'load', timeout: timeoutMs });
  let unknownSince = 0;
  while (Date.now() < deadline) {
    const url = page.url();
    if (url.startsWith(args['expect-prefix'])) {
      await screenshot(page, ++step, 'landed');
      process.stdout.write(`${JSON.stringify({ landed: url })}\n`);
      return 0;
    }

    const kind = await classify(page);
    if (kind === 'confirmation') {
      await screenshot(page, ++step, 'confirmation');
      await submitAndWait(page, 'form[action="/.credgate/consent"] button[value="continue"]');
      unknownSince = 0;
    } else if (kind === 'login') {
      await screenshot(page, ++step, 'login');
      await page.fill('input[name="login"]', args.user);
      await page.fill('input[name="password"]', args.password);
      await submitAndWait(page, 'button[type="submit"]');
      unknownSince = 0;
    } else if (kind === 'consent') {
      await screenshot(page, ++step, 'consent');
      await submitAndWait(page, 'form:has(input[name="prompt"][value="consent"]) button[type="submit"]');
      unknownSince = 0;
    } else {
      // A page that keeps being neither a form nor the target (or that came with an HTTP error)
      // is where the flow stopped.
      unknownSince ||= Date.now();
      if (lastResponseStatus >= 400 || Date.now() - unknownSince >= kStuckMs) {
        await screenshot(page, ++step, 'stopped');
        return reportStopped(page, lastResponseStatus);
      }
      await page.waitForTimeout(kSettleMs);
    }
  }
  await screenshot(page, ++step, 'timeout');
  process.stderr.write(`login: timed out after ${timeoutMs / 1000} s\n`);
  return reportStopped(page, lastResponseStatus);
}

// Returns 'confirmation', 'login', 'consent' or 'other' for the current page.
async function classify(page) {
  try {
    if ((await page.locator('form[action="/.credgate/consent"]').count()) > 0) {
      return 'confirmation';
    }
    if ((await page.locator('input[name="login"]').count()) > 0) return 'login';
    if ((await page.locator('input[name="prompt"][value="consent"]').count()) > 0) return 'consent';
  } catch {
    // The page navigated during the check, so the next iteration inspects the new page.
  }
  return 'other';
}

async function submitAndWait(page, selector) {
  await Promise.all([
    page.waitForNavigation({ waitUntil: 'load', timeout: timeoutMs }),
    page.click(selector),
  ]);
}

async function reportStopped(page, status) {
  const text = await page
    .locator('body')
    .innerText({ timeout: 2000 })
    .catch(() => '(page text unavailable)');
  process.stderr.write(
    `login: the browser stopped at ${page.url()} (HTTP ${status || 'unknown'}), not at a URL ` +
      `starting with ${args['expect-prefix']}. Page text:\n${text.trim()}\n`,
  );
  return 1;
}

async function screenshot(page, step, name) {
  if (!args['screenshot-dir']) return;
  await mkdir(args['screenshot-dir'], { recursive: true });
  const path = join(args['screenshot-dir'], `${String(step).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path, fullPage: true }).catch((error) => {
    process.stderr.write(`login: screenshot ${path} failed: ${error.message}\n`);
  });
}
