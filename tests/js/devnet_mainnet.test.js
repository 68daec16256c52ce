// tronweb against `bttnode devnet --profile mainnet`: mainnet's chain parameters, fees as
// java-tron charges and reports them, a solidified block 19 behind the head, java-tron's
// builder errors, a refused broadcast that does not poison its txid, and hostile bodies.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { TronWeb } = require('tronweb');
const { genesisAccounts, waitFor, freshAccount, devnetForTests } = require('./devnet_harness.js');

const { genesis, accounts } = genesisAccounts();
const alice = accounts.alice;
const bob = accounts.bob;
const TOKEN = genesis.trc20.contract_address;
const BLOCK_MS = 150;
const VALIDATE = 'class org.tron.core.exception.ContractValidateException : ';

// The devnet and a TronWeb on it, started before the tests and stopped after them.
const env = devnetForTests({ before, after }, { blockMs: BLOCK_MS, extraArgs: ['--profile', 'mainnet'] }, TronWeb);
const fresh = () => freshAccount(env.tronWeb);

// In a block: what /wallet/ knows (tronweb's "unconfirmed" info).
async function inBlock(txid) {
  return waitFor('transaction ' + txid + ' in a block', async () => {
    const info = await env.tronWeb.trx.getUnconfirmedTransactionInfo(txid);
    return info && info.id ? info : null;
  });
}

// Bandwidth java-tron charges: the serialized transaction without ret, plus 64 bytes.
function bandwidthOf(signed) {
  const raw = signed.raw_data_hex.length / 2;
  const varint = (n) => (n < 128 ? 1 : n < 16384 ? 2 : 3);
  let size = 1 + varint(raw) + raw;
  for (const s of signed.signature) size += 1 + varint(s.length / 2) + s.length / 2;
  return size + 64;
}

function nodeInfoNumbers(info) {
  const num = (s) => Number(/^Num:(\d+),/.exec(s)[1]);
  return { head: num(info.block), solid: num(info.solidityBlock) };
}

test('chain parameters are mainnet\'s', async () => {
  const params = await env.tronWeb.trx.getChainParameters();
  const value = (key) => (params.find((p) => p.key === key) || {}).value;
  assert.equal(value('getTransactionFee'), 1000);
  assert.equal(value('getEnergyFee'), 100);
  assert.equal(value('getFreeNetLimit'), 600);
  assert.equal(value('getCreateAccountFee'), 100_000);
  assert.equal(value('getCreateNewAccountFeeInSystemContract'), 1_000_000);
  assert.equal(value('getMaxFeeLimit'), 15_000_000_000);
});

test('the solidified block trails the head by 19 blocks', async () => {
  await waitFor('20 blocks', async () => nodeInfoNumbers(await env.tronWeb.trx.getNodeInfo()).head >= 20);
  const { head, solid } = nodeInfoNumbers(await env.tronWeb.trx.getNodeInfo());
  assert.equal(head - solid, 19);
  const solidNow = await env.tronWeb.solidityNode.request('walletsolidity/getnowblock', {}, 'post');
  const n = solidNow.block_header.raw_data.number;
  assert.ok(n <= head - 19 + 2 && n >= head - 19, `solid ${n}, head ${head}`);

  const r = await env.tronWeb.trx.sendTransaction(bob.address, 3, { privateKey: alice.private_key });
  assert.equal(r.result, true, JSON.stringify(r));
  const info = await inBlock(r.txid);
  // Known to /wallet/ at once, to /walletsolidity/ only 19 blocks later.
  const early = await env.tronWeb.trx.getTransactionInfo(r.txid);
  const { head: h2, solid: s2 } = nodeInfoNumbers(await env.tronWeb.trx.getNodeInfo());
  if (s2 < info.blockNumber) assert.deepEqual(early, {});
  assert.ok(h2 >= info.blockNumber);
  const confirmed = await waitFor('solid info', async () => {
    const i = await env.tronWeb.trx.getTransactionInfo(r.txid);
    return i && i.id ? i : null;
  });
  const { solid: s3 } = nodeInfoNumbers(await env.tronWeb.trx.getNodeInfo());
  assert.ok(s3 >= confirmed.blockNumber);
  assert.ok(s3 - 19 <= confirmed.blockNumber + 1 + 19);
  assert.equal(confirmed.id, r.txid);
});

test('TRC-10 transfers past the free bandwidth burn size * 1000 sun', async () => {
  const payer = fresh();
  const fund = await env.tronWeb.trx.sendTransaction(payer.address, 50_000_000, { privateKey: alice.private_key });
  await inBlock(fund.txid);
  const token = await env.tronWeb.trx.sendToken(payer.address, 1000, '1002000', alice.private_key);
  await inBlock(token.txid);
  let freeLeft = 600;
  let burnt = 0;
  for (let i = 1; i <= 4; i++) {
    const tx = await env.tronWeb.transactionBuilder.sendToken(bob.address, i, '1002000', payer.address);
    const signed = await env.tronWeb.trx.sign(tx, payer.private_key);
    const bytes = bandwidthOf(signed);
    const r = await env.tronWeb.trx.sendRawTransaction(signed);
    assert.equal(r.result, true, JSON.stringify(r));
    const info = await inBlock(r.txid);
    if (bytes <= freeLeft) {
      freeLeft -= bytes;
      assert.equal(info.receipt.net_usage, bytes, JSON.stringify(info));
      assert.equal(info.fee, undefined);
    } else {
      assert.equal(info.receipt.net_fee, bytes * 1000, JSON.stringify(info));
      assert.equal(info.fee, bytes * 1000);
      burnt += bytes * 1000;
    }
  }
  assert.ok(burnt > 0);
  // tronweb's getBalance reads /walletsolidity/ (19 blocks behind); the head's state is
  // its "unconfirmed" balance.
  assert.equal(await env.tronWeb.trx.getUnconfirmedBalance(payer.address), 50_000_000 - burnt);
  const res = await env.tronWeb.trx.getAccountResources(payer.address);
  assert.equal(res.freeNetLimit, 600);
  assert.ok(res.freeNetUsed > 0 && res.freeNetUsed <= 600, JSON.stringify(res));
});

test('a TRC-20 transfer without staked energy burns energy * getEnergyFee', async () => {
  const params = [{ type: 'address', value: alice.address }, { type: 'uint256', value: '9' }];
  const est = await env.tronWeb.transactionBuilder.estimateEnergy(TOKEN, 'transfer(address,uint256)', {}, params, bob.address);
  const constant = await env.tronWeb.transactionBuilder.triggerConstantContract(
    TOKEN, 'transfer(address,uint256)', {}, params, bob.address);
  assert.equal(est.energy_required, constant.energy_used);
  assert.ok(est.energy_required > 10_000 && est.energy_required < 40_000, JSON.stringify(est));
  const built = await env.tronWeb.transactionBuilder.triggerSmartContract(
    TOKEN, 'transfer(address,uint256)', { feeLimit: 100_000_000 }, params, bob.address);
  const before = await env.tronWeb.trx.getUnconfirmedBalance(bob.address);
  const r = await env.tronWeb.trx.sendRawTransaction(await env.tronWeb.trx.sign(built.transaction, bob.private_key));
  assert.equal(r.result, true, JSON.stringify(r));
  const info = await inBlock(r.txid);
  assert.equal(info.receipt.energy_usage_total, est.energy_required);
  assert.equal(info.receipt.energy_fee, est.energy_required * 100);
  assert.equal(info.fee, est.energy_required * 100 + (info.receipt.net_fee || 0));
  assert.equal(await env.tronWeb.trx.getUnconfirmedBalance(bob.address), before - info.fee);
});

test('a broadcast refused for its signature does not make its txid a duplicate', async () => {
  const tx = await env.tronWeb.transactionBuilder.sendTrx(bob.address, 11, alice.address);
  const wrong = await env.tronWeb.trx.sign(JSON.parse(JSON.stringify(tx)), bob.private_key, true, true);
  const refused = await env.tronWeb.trx.sendRawTransaction(wrong);
  assert.equal(refused.code, 'SIGERROR');
  const right = await env.tronWeb.trx.sign(tx, alice.private_key);
  assert.equal(right.txID, wrong.txID);
  const accepted = await env.tronWeb.trx.sendRawTransaction(right);
  assert.equal(accepted.result, true, JSON.stringify(accepted));
  const again = await env.tronWeb.trx.sendRawTransaction(right);
  assert.equal(again.code, 'DUP_TRANSACTION_ERROR');
});

test('the builders refuse what the actuators would, in java-tron\'s words', async () => {
  // tronweb 6 builds transfers locally; the node's builders are what other clients call.
  const build = (path, body) => env.tronWeb.fullNode.request(path, { ...body, visible: true }, 'post');
  const trx = (owner, to, amount) =>
    build('wallet/createtransaction', { owner_address: owner, to_address: to, amount });
  const asset = (owner, to, amount, id = '1002000') =>
    build('wallet/transferasset', { owner_address: owner, to_address: to, amount, asset_name: id });
  const poor = fresh();
  const fund = await env.tronWeb.trx.sendTransaction(poor.address, 2_000_000, { privateKey: alice.private_key });
  await inBlock(fund.txid);
  const cases = [
    [trx(poor.address, bob.address, 5_000_000), 'Validate TransferContract error, balance is not sufficient.'],
    [trx(fresh().address, bob.address, 1), 'Validate TransferContract error, no OwnerAccount.'],
    [trx(alice.address, bob.address, 0), 'Amount must be greater than 0.'],
    [trx(alice.address, alice.address, 1), 'Cannot transfer TRX to yourself.'],
    [asset(poor.address, bob.address, 1), 'Owner has no asset!'],
    [asset(alice.address, bob.address, 1, '1000001'), 'No asset!'],
    [asset(accounts.dave.address, bob.address, 10 ** 15), 'assetBalance is not sufficient.'],
    [asset(alice.address, bob.address, -1), 'Amount must be greater than 0.'],
  ];
  for (const [reply, message] of cases) assert.deepEqual(await reply, { Error: VALIDATE + message });
  const ok = await trx(poor.address, bob.address, 1_000_000);
  assert.ok(ok.txID, JSON.stringify(ok));
});

test('a body of 100,000 nested arrays gets a 400 and the devnet still answers', async () => {
  const res = await fetch(env.devnet.url + '/wallet/getblock', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '['.repeat(100_000),
  });
  assert.equal(res.status, 400);
  const body = await res.json();
  assert.match(body.Error, /nested deeper than/);
  const block = await env.tronWeb.trx.getCurrentBlock();
  assert.ok(block.blockID);
});
