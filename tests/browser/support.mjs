// What the browser tests share: the Préau binary and Chromium they run, a free loopback port, a
// small demo département started in a temporary folder, TOTP codes computed as an
// authenticator application would (RFC 6238 with Node's HMAC-SHA1), and a click that waits for
// the page it leads to.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const BIN = process.env.PREAU_BIN ?? resolve(here, '../../target/debug/preau');
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
export const PASSWORD = 'Cerisiers en fleurs sur la colline 47 !';

/** A port free on the loopback interface. */
export function freePort() {
  return new Promise((done, fail) => {
    const server = createServer();
    server.on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });
}

export const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

/** Starts `preau demo` (a small seeded département) on `port` (default: a free one) in a new
 * temporary folder named from `prefix`, and waits until it serves and has written its
 * accounts. */
export async function startDemo({ port, prefix }) {
  port = port ?? await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), prefix));
  const baseUrl = `http://127.0.0.1:${port}`;
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME ?? dataDir,
    PREAU_DATA_DIR: dataDir,
    PREAU_LISTEN: `127.0.0.1:${port}`,
    PREAU_BASE_URL: baseUrl,
    RUST_LOG: 'warn',
  };
  const server = spawn(BIN, ['demo', '--schools', '4', '--people', '3000', '--seed', '7'], {
    cwd: dataDir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  server.stdout.on('data', (chunk) => { output += chunk; });
  server.stderr.on('data', (chunk) => { output += chunk; });
  let exited = null;
  server.on('exit', (code) => { exited = code; });

  const accountsFile = join(dataDir, 'demo-accounts.json');
  const deadline = Date.now() + 300_000;
  for (;;) {
    if (exited !== null) {
      throw new Error(`preau demo s'est arrêté (code ${exited}) :\n${output}`);
    }
    if (Date.now() > deadline) {
      server.kill('SIGTERM');
      throw new Error(`preau demo n'a pas répondu à temps :\n${output}`);
    }
    if (existsSync(accountsFile)) {
      try {
        const response = await fetch(`${baseUrl}/healthz`);
        if (response.ok) break;
      } catch {
        // Not listening yet.
      }
    }
    await sleep(250);
  }
  const accounts = JSON.parse(readFileSync(accountsFile, 'utf8')).accounts;
  const stop = async () => {
    if (exited === null) {
      server.kill('SIGTERM');
      for (let i = 0; i < 40 && exited === null; i++) await sleep(250);
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  return { baseUrl, accounts, stop, output: () => output };
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** The bytes of a base32 (RFC 4648) text, spaces and padding ignored. */
export function base32Bytes(text) {
  const bytes = [];
  let bits = 0;
  let value = 0;
  for (const char of text.replace(/[\s=]/g, '').toUpperCase()) {
    const index = BASE32.indexOf(char);
    assert.ok(index >= 0, `clé base32 illisible : ${text}`);
    value = ((value << 5) | index) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bytes.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(bytes);
}

/** The TOTP code (RFC 6238: HMAC-SHA1, 6 digits) of a base32 secret for a 30-second step. */
export function totp(secret, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', base32Bytes(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

export const currentStep = () => Math.floor(Date.now() / 30_000);

/** Clicks and waits for the page the click leads to. */
export async function follow(page, locator) {
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), locator.click()]);
}
