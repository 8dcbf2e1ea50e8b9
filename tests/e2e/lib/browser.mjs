// Headless chromium for the sign-in cases that testenv/login.mjs does not drive: denying consent
// at the provider, stopping a sign-in before credgate's callback, and finishing a sign-in in
// another browser context. One Browser is one chromium process (Debian's /usr/bin/chromium,
// driven by testenv's playwright-core), and each of its contexts has its own cookies. As in
// testenv/login.mjs, requests to hosts other than 127.0.0.1, ::1 and localhost are aborted.
//
// The forms are credgate's confirmation page (Continue or Cancel before the provider), and those
// of oidc-provider's development interactions, which testenv/backend.mjs serves: a login form
// (any login name and password), a consent form, and a "[ Cancel ]" link that ends the sign-in
// with error=access_denied.

import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { confirmationFields } from './credgate.mjs';
import { kRepoRoot } from './processes.mjs';

const kLoopbackHosts = new Set(['127.0.0.1', '[::1]', 'localhost']);
const kChromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE [::1], EXCLUDE localhost',
];
const kTimeoutMs = 20000;
// Upper bound on the redirects and forms of one sign-in driven without the page.
const kMaxSignInSteps = 20;

const kConfirmationForm = 'form[action="/.credgate/consent"]';
const kLoginForm = 'form:has(input[name="prompt"][value="login"])';
const kConsentForm = 'form:has(input[name="prompt"][value="consent"])';
const kCancelLink = 'a:has-text("[ Cancel ]")';

// playwright-core is installed in testenv/, not next to the tests.
async function loadChromium() {
  const require = createRequire(join(kRepoRoot, 'testenv', 'package.json'));
  const module = await import(pathToFileURL(require.resolve('playwright-core')).href);
  return module.chromium ?? module.default.chromium;
}

export class Browser {
  static async launch() {
    const chromium = await loadChromium();
    const browser = new Browser();
    browser.chromium = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: kChromiumArgs,
      timeout: kTimeoutMs,
    });
    return browser;
  }

  // Returns a new context with empty cookies.
  async newContext() {
    const context = await this.chromium.newContext();
    context.setDefaultTimeout(kTimeoutMs);
    await context.route('**/*', (route) => {
      const { hostname } = new URL(route.request().url());
      return kLoopbackHosts.has(hostname) ? route.continue() : route.abort('blockedbyclient');
    });
    return new BrowserContext(context);
  }

  async close() {
    await this.chromium?.close();
  }
}

// A page load's outcome: the final status after redirects, the final URL and the page's text.
async function pageOutcome(page, response) {
  const text = await page.locator('body').innerText().catch(() => '');
  return { status: response?.status() ?? 0, url: page.url(), text };
}

async function submit(page, selector) {
  const [response] = await Promise.all([
    page.waitForNavigation({ waitUntil: 'load' }),
    page.click(selector),
  ]);
  return response;
}

export class BrowserContext {
  constructor(context) {
    this.context = context;
  }

  // Loads `url` in a new page and returns {status, url, text} of the page it ends on.
  async open(url) {
    const page = await this.context.newPage();
    try {
      return await pageOutcome(page, await page.goto(url, { waitUntil: 'load' }));
    } finally {
      await page.close();
    }
  }

  // Opens a login link in a page, continues on credgate's confirmation page, signs in at the
  // provider as `user`, and then approves the consent page or, with `consent: 'deny'`, leaves
  // it through "[ Cancel ]". Returns {status, url, text} of the page the browser ends on, which
  // is credgate's callback page or the post-login page. A step whose form is missing is
  // skipped, so a rejected link returns credgate's error page.
  async signIn(link, { user, consent = 'approve' }) {
    const page = await this.context.newPage();
    try {
      let response = await page.goto(link, { waitUntil: 'load' });
      if ((await page.locator(kConfirmationForm).count()) > 0) {
        response = await submit(page, `${kConfirmationForm} button[value="continue"]`);
      }
      if ((await page.locator(kLoginForm).count()) > 0) {
        await page.fill('input[name="login"]', user);
        await page.fill('input[name="password"]', 'any');
        response = await submit(page, `${kLoginForm} button[type="submit"]`);
      }
      if ((await page.locator(kConsentForm).count()) > 0) {
        const selector = consent === 'deny' ? kCancelLink : `${kConsentForm} button[type="submit"]`;
        response = await submit(page, selector);
      }
      return await pageOutcome(page, response);
    } finally {
      await page.close();
    }
  }

  // Walks the same sign-in as signIn with this context's cookies, through the context's HTTP
  // client instead of a page, and stops at the redirect to a URL that starts with
  // `callbackPrefix`. Returns that callback URL, which no request has loaded yet. Throws with
  // the page's start when a response is neither a redirect nor a known form.
  async signInUntilCallback(link, { user, callbackPrefix }) {
    let url = link;
    let form;
    for (let step = 0; step < kMaxSignInSteps; step += 1) {
      const response = await this.context.request.fetch(url, {
        method: form ? 'POST' : 'GET',
        form,
        maxRedirects: 0,
      });
      const location = response.headers().location;
      if (location !== undefined) {
        url = new URL(location, url).href;
        form = undefined;
        if (url.startsWith(callbackPrefix)) return url;
        continue;
      }

      const html = await response.text();
      const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
      if (action === '/.credgate/consent') {
        form = { ...confirmationFields(html), action: 'continue' };
      } else if (action !== undefined && html.includes('name="prompt" value="login"')) {
        form = { prompt: 'login', login: user, password: 'any' };
      } else if (action !== undefined && html.includes('name="prompt" value="consent"')) {
        form = { prompt: 'consent' };
      } else {
        throw new Error(`sign-in stopped at ${url} (HTTP ${response.status()}): ${html.slice(0, 400)}`);
      }
      url = new URL(action, url).href;
    }
    throw new Error(`sign-in took more than ${kMaxSignInSteps} steps; last URL ${url}`);
  }

  async close() {
    await this.context.close();
  }
}
