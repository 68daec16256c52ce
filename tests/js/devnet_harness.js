// Starts `bttnode devnet` on a free port for a test file and stops it afterwards.
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const BINARY = process.env.BTTNODE_BINARY;
const GENESIS =
  process.env.BTTNODE_GENESIS || path.join(__dirname, '..', '..', 'configs', 'devnet-genesis.json');

// The public test accounts of configs/devnet-genesis.json (test keys, never for real money).
function genesisAccounts() {
  const g = JSON.parse(fs.readFileSync(GENESIS, 'utf8'));
  const byName = {};
  for (const a of g.accounts) byName[a.name] = a;
  return { genesis: g, accounts: byName };
}

async function startDevnet({ blockMs = 300, state, extraArgs = [] } = {}) {
  if (!BINARY) throw new Error('BTTNODE_BINARY is not set (path of the bttnode executable)');
  const args = ['devnet', '--listen', '127.0.0.1:0', '--genesis', GENESIS, '--block-ms', String(blockMs)];
  if (state) args.push('--state', state);
  args.push(...extraArgs);
  const child = spawn(BINARY, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stderr.on('data', (d) => (output += d));
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('devnet did not start:\n' + output)), 30000);
    child.stdout.on('data', (d) => {
      output += d;
      const m = /devnet listening on (http:\/\/\S+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`devnet exited with ${code}:\n${output}`));
    });
  });
  child.removeAllListeners('exit');
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return {
    url,
    child,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

function tempDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'bttnode-devnet-'));
}

async function waitFor(what, fn, timeoutMs = 30000, everyMs = 100) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting for ' + what);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

// A new random account of tronweb's, as the genesis lists its accounts.
function freshAccount(tronWeb) {
  const key = tronWeb.utils.accounts.generateAccount();
  return { private_key: key.privateKey, address: key.address.base58 };
}

// Registers node:test hooks that start a devnet (with `options`) and a TronWeb on it before the
// file's tests and stop it after, checking it exits cleanly. Returns { devnet, tronWeb } once
// started (fill-in object: read its fields inside tests).
function devnetForTests(hooks, options, TronWeb) {
  const env = { devnet: null, tronWeb: null };
  hooks.before(async () => {
    env.devnet = await startDevnet(options);
    env.tronWeb = new TronWeb({ fullHost: env.devnet.url });
  });
  hooks.after(async () => {
    if (env.devnet) {
      const { code } = await env.devnet.stop();
      if (code !== 0) throw new Error('devnet exited with ' + code + ' on SIGTERM');
    }
  });
  return env;
}

module.exports = {
  startDevnet, genesisAccounts, tempDir, waitFor, freshAccount, devnetForTests, GENESIS,
};
