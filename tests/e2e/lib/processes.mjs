// Child processes for the end-to-end tests: free loopback ports, start-and-wait-until-ready, and
// a registry that stops every child the tests started, also when a test fails.

import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const kRepoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const kOutputDir = join(kRepoRoot, '.test-output', 'e2e');
// Created on import, because test files make data folders inside it before any child starts.
mkdirSync(kOutputDir, { recursive: true });

const running = new Set();

// Stops the remaining children when the test process exits for any reason.
process.on('exit', () => {
  for (const child of running) child.process.kill('SIGKILL');
});

// The kernel's range for ephemeral ports: the local ports of outgoing connections and of bind()
// to port 0. A port below it is never taken by either.
function ephemeralPortRange() {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(low) && Number.isInteger(high)) return { low, high };
  } catch {
    // Not Linux, or /proc is not mounted: fall back to the kernel's choice below.
  }
  return undefined;
}

const kEphemeral = ephemeralPortRange();
const kLowestPort = 10000;
const handedOut = new Set();

function listenOn(port) {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => {
      const bound = server.address().port;
      server.close(() => resolve(bound));
    });
  });
}

// Returns a TCP port that was free on 127.0.0.1 a moment ago and that this process has not
// returned before. The port comes from below the kernel's ephemeral range, so outgoing
// connections and port-0 listeners opened meanwhile cannot take it. A process that binds fixed
// ports still could, a race the tests accept.
export async function freePort() {
  if (kEphemeral !== undefined && kEphemeral.low > kLowestPort + 1000) {
    for (let attempt = 0; attempt < 100; attempt += 1) {
      const candidate = kLowestPort + Math.floor(Math.random() * (kEphemeral.low - kLowestPort));
      if (handedOut.has(candidate)) continue;
      handedOut.add(candidate);
      if ((await listenOn(candidate)) === candidate) return candidate;
    }
  }
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const port = await listenOn(0);
    if (port !== undefined && !handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('no free TCP port on 127.0.0.1 after 100 attempts');
}

// A started child process. `output` contains everything it wrote so far (stdout and stderr),
// which the tests print when an assertion fails.
export class Child {
  constructor(name, command, args, env) {
    this.name = name;
    this.output = '';
    this.exited = new Promise((resolve) => {
      this.resolveExit = resolve;
    });
    mkdirSync(kOutputDir, { recursive: true });
    this.log = createWriteStream(join(kOutputDir, `${name}.log`), { flags: 'a' });
    this.log.write(`--- ${new Date().toISOString()} ${command} ${redactArgs(args).join(' ')}\n`);
    this.process = spawn(command, args, {
      cwd: kRepoRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.lineListeners = [];
    for (const stream of [this.process.stdout, this.process.stderr]) {
      let partial = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk) => {
        this.output += chunk;
        this.log.write(chunk);
        const lines = (partial + chunk).split('\n');
        partial = lines.pop();
        for (const line of lines) for (const listener of this.lineListeners) listener(line);
      });
    }
    this.process.on('exit', (code, signal) => {
      running.delete(this);
      this.log.end();
      this.resolveExit({ code, signal });
    });
    this.process.on('error', (error) => {
      this.output += `spawn failed: ${error.message}\n`;
    });
    running.add(this);
  }

  // Resolves with the first output line for which `accept(line)` returns a truthy value, and
  // rejects when the process exits first or `timeoutMs` passes.
  waitForLine(accept, timeoutMs = 20000) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${this.name} not ready after ${timeoutMs} ms; output:\n${this.output}`));
      }, timeoutMs);
      const listener = (line) => {
        const value = accept(line);
        if (value) {
          done();
          resolve(value);
        }
      };
      const done = () => {
        clearTimeout(timer);
        this.lineListeners = this.lineListeners.filter((l) => l !== listener);
      };
      this.lineListeners.push(listener);
      this.exited.then(({ code, signal }) => {
        done();
        reject(new Error(`${this.name} exited (code ${code}, signal ${signal}); output:\n${this.output}`));
      });
    });
  }

  // Sends SIGKILL and resolves once the process has exited.
  async kill() {
    if (running.has(this)) this.process.kill('SIGKILL');
    await this.exited;
  }

  // Sends SIGTERM, then SIGKILL after `graceMs`, and resolves once the process has exited.
  async stop(graceMs = 3000) {
    if (!running.has(this)) return;
    this.process.kill('SIGTERM');
    const timer = setTimeout(() => this.process.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

// Options whose values are secrets, left out of the command line that a log starts with.
const kSecretOptions = new Set(['--client-secret', '--password']);

function redactArgs(args) {
  return args.map((arg, index) => (kSecretOptions.has(args[index - 1]) ? '<redacted>' : arg));
}

// Starts a testenv server (idp.mjs or backend.mjs) and resolves with [child, readyMessage] once
// it printed its {"ready":true,...} line.
export async function startNodeServer(name, script, args) {
  const child = new Child(name, process.execPath, [join(kRepoRoot, 'testenv', script), ...args]);
  const ready = await child.waitForLine(parseReadyLine);
  return [child, ready];
}

function parseReadyLine(line) {
  if (!line.startsWith('{')) return undefined;
  try {
    const value = JSON.parse(line);
    return value.ready === true ? value : undefined;
  } catch {
    return undefined;
  }
}

// Runs a command to completion and resolves with {code, output}. Kills it after `timeoutMs`.
export function run(name, command, args, timeoutMs = 60000) {
  const child = new Child(name, command, args);
  const timer = setTimeout(() => child.process.kill('SIGKILL'), timeoutMs);
  return child.exited.then(({ code, signal }) => {
    clearTimeout(timer);
    return { code, signal, output: child.output };
  });
}

// Stops every child that is still running.
export async function stopAll() {
  await Promise.all([...running].map((child) => child.stop()));
}

// Runs the testenv browser driver against `link` and resolves with its {code, output}.
export function runLogin({ link, user, expectPrefix, screenshotDir }) {
  const args = [
    join(kRepoRoot, 'testenv', 'login.mjs'),
    '--link', link,
    '--user', user,
    '--password', 'any',
    '--expect-prefix', expectPrefix,
  ];
  if (screenshotDir) args.push('--screenshot-dir', screenshotDir);
  return run(`login-${user}`, process.execPath, args, 60000);
}
