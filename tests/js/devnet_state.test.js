// `bttnode devnet --state FILE` keeps balances and the chain across a restart.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { TronWeb } = require('tronweb');
const { startDevnet, genesisAccounts, tempDir, waitFor } = require('./devnet_harness.js');

const { accounts } = genesisAccounts();

test('a restart with --state keeps balances, blocks and transactions', async () => {
  const dir = tempDir();
  const state = path.join(dir, 'devnet-state.json');
  try {
    let devnet = await startDevnet({ blockMs: 200, state });
    let tronWeb = new TronWeb({ fullHost: devnet.url });
    const to = tronWeb.utils.accounts.generateAccount().address.base58;
    const r = await tronWeb.trx.sendTransaction(to, 3_000_000, { privateKey: accounts.alice.private_key });
    assert.equal(r.result, true, JSON.stringify(r));
    const info = await waitFor('the transfer in a block', async () => {
      const i = await tronWeb.trx.getTransactionInfo(r.txid);
      return i && i.id ? i : null;
    });
    const head = await tronWeb.trx.getCurrentBlock();
    const aliceBalance = await tronWeb.trx.getBalance(accounts.alice.address);
    const stopped = await devnet.stop();
    assert.equal(stopped.code, 0);
    assert.ok(fs.existsSync(state), 'state file written on SIGTERM');
    assert.equal(fs.statSync(state).mode & 0o077, 0, 'state file is private to its owner');

    devnet = await startDevnet({ blockMs: 200, state });
    tronWeb = new TronWeb({ fullHost: devnet.url });
    assert.equal(await tronWeb.trx.getBalance(to), 3_000_000);
    assert.equal(await tronWeb.trx.getBalance(accounts.alice.address), aliceBalance);
    const again = await tronWeb.trx.getTransactionInfo(r.txid);
    assert.equal(again.blockNumber, info.blockNumber);
    const old = await tronWeb.trx.getBlockByNumber(head.block_header.raw_data.number);
    assert.equal(old.blockID, head.blockID);
    const now = await waitFor('a new block', async () => {
      const b = await tronWeb.trx.getCurrentBlock();
      return b.block_header.raw_data.number > head.block_header.raw_data.number ? b : null;
    });
    assert.ok(now.block_header.raw_data.number > head.block_header.raw_data.number);
    // The same signed transaction is still a duplicate after the restart.
    const dup = await tronWeb.trx.sendRawTransaction(r.transaction);
    assert.equal(dup.code, 'DUP_TRANSACTION_ERROR');
    assert.equal((await devnet.stop()).code, 0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
