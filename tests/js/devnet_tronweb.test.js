// tronweb, unchanged, against `bttnode devnet`: balances, TRX / TRC-10 / TRC-20 transfers, the
// Transfer log, and each of java-tron's broadcast error codes provoked once.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { TronWeb } = require('tronweb');
const { genesisAccounts, waitFor, freshAccount, devnetForTests } = require('./devnet_harness.js');

const { genesis, accounts } = genesisAccounts();
const alice = accounts.alice;
const bob = accounts.bob;
const carol = accounts.carol;
const TOKEN = genesis.trc20.contract_address;
const TRANSFER_TOPIC = 'ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef';

// The devnet and a TronWeb on it, started before the tests and stopped after them.
const env = devnetForTests({ before, after }, { blockMs: 300 }, TronWeb);
const fresh = () => freshAccount(env.tronWeb);

async function mined(txid) {
  return waitFor('transaction ' + txid + ' in a block', async () => {
    const info = await env.tronWeb.trx.getTransactionInfo(txid);
    return info && info.id ? info : null;
  });
}

async function trc20Balance(owner) {
  const r = await env.tronWeb.transactionBuilder.triggerConstantContract(
    TOKEN, 'balanceOf(address)', {}, [{ type: 'address', value: owner }], owner);
  assert.equal(r.result.result, true);
  return BigInt('0x' + r.constant_result[0]);
}

function text(hex) {
  return Buffer.from(hex || '', 'hex').toString('utf8');
}

test('genesis balances: TRX, TRC-10 1002000, TRC-20 BTT and chain parameters', async () => {
  assert.equal(await env.tronWeb.trx.getBalance(carol.address), carol.trx);
  const account = await env.tronWeb.trx.getAccount(carol.address);
  const asset = account.assetV2.find((a) => a.key === '1002000');
  assert.equal(asset.value, carol.trc10);
  assert.equal(await trc20Balance(carol.address), BigInt(carol.trc20));

  const token = await env.tronWeb.trx.getTokenByID('1002000');
  assert.equal(token.name, 'BitTorrent');
  assert.equal(token.abbr, 'BTT');
  assert.equal(token.precision, 6);

  const params = await env.tronWeb.trx.getChainParameters();
  const byKey = Object.fromEntries(params.map((p) => [p.key, p.value]));
  assert.equal(byKey.getTransactionFee, 1000);
  assert.equal(byKey.getFreeNetLimit, 600);
  assert.equal(byKey.getEnergyFee, 100);

  const contract = await env.tronWeb.contract().at(TOKEN);
  assert.equal(await contract.symbol().call(), 'BTT');
  assert.equal(Number(await contract.decimals().call()), 18);
  assert.equal(await contract.name().call(), 'BitTorrent');
  assert.equal(BigInt(await contract.totalSupply().call()), BigInt(genesis.trc20.total_supply));

  const block = await env.tronWeb.trx.getCurrentBlock();
  assert.match(block.blockID, /^[0-9a-f]{64}$/);
  // proto3 JSON leaves number 0 out, as java-tron does for the genesis block.
  assert.equal(parseInt(block.blockID.slice(0, 16), 16), block.block_header.raw_data.number || 0);
});

test('sendTrx moves TRX and the transaction appears once in a block', async () => {
  const to = fresh();
  const before = await env.tronWeb.trx.getBalance(alice.address);
  const r = await env.tronWeb.trx.sendTransaction(to.address, 2_000_000, { privateKey: alice.private_key });
  assert.equal(r.result, true, JSON.stringify(r));
  const info = await mined(r.txid);
  assert.ok(info.blockNumber > 0);
  // A new account: 0.1 TRX creation fee (bandwidth stage) + 1 TRX system-contract fee.
  assert.equal(info.fee, 1_100_000);
  assert.equal(info.receipt.net_fee, 100_000);
  const tx = await env.tronWeb.trx.getTransaction(r.txid);
  assert.equal(tx.txID, r.txid);
  assert.equal(tx.ret[0].contractRet, 'SUCCESS');
  assert.equal(await env.tronWeb.trx.getBalance(to.address), 2_000_000);
  assert.equal(await env.tronWeb.trx.getBalance(alice.address), before - 2_000_000 - 1_100_000);

  // To an existing account the free daily bandwidth pays: no fee at all.
  const again = await env.tronWeb.trx.sendTransaction(to.address, 1, { privateKey: alice.private_key });
  const info2 = await mined(again.txid);
  assert.equal(info2.fee, undefined);
  assert.ok(info2.receipt.net_usage > 200 && info2.receipt.net_usage < 400);
  assert.equal(await env.tronWeb.trx.getBalance(to.address), 2_000_001);
});

test('sendToken moves TRC-10 1002000', async () => {
  const r = await env.tronWeb.trx.sendToken(bob.address, 5_000_000, '1002000', { privateKey: alice.private_key });
  assert.equal(r.result, true, JSON.stringify(r));
  await mined(r.txid);
  const account = await env.tronWeb.trx.getAccount(bob.address);
  assert.equal(account.assetV2.find((a) => a.key === '1002000').value, bob.trc10 + 5_000_000);
  const tx = await env.tronWeb.trx.getTransaction(r.txid);
  assert.equal(tx.raw_data.contract[0].type, 'TransferAssetContract');
});

test('TRC-20 transfer: triggerSmartContract, sign, sendRawTransaction, Transfer log', async () => {
  const to = fresh();
  const amount = 1234n * 10n ** 18n;
  const built = await env.tronWeb.transactionBuilder.triggerSmartContract(
    TOKEN, 'transfer(address,uint256)', { feeLimit: 100_000_000 },
    [{ type: 'address', value: to.address }, { type: 'uint256', value: amount.toString() }],
    alice.address);
  assert.equal(built.result.result, true);
  const signed = await env.tronWeb.trx.sign(built.transaction, alice.private_key);
  const r = await env.tronWeb.trx.sendRawTransaction(signed);
  assert.equal(r.result, true, JSON.stringify(r));
  const info = await mined(r.txid);
  assert.equal(info.receipt.result, 'SUCCESS');
  assert.ok(info.receipt.energy_usage_total > 0);
  assert.equal(info.fee, info.receipt.energy_fee + (info.receipt.net_fee || 0));
  assert.equal(info.contract_address, env.tronWeb.address.toHex(TOKEN));
  assert.equal(info.log.length, 1);
  const log = info.log[0];
  assert.equal(log.address, env.tronWeb.address.toHex(TOKEN).slice(2));
  assert.equal(log.topics[0], TRANSFER_TOPIC);
  assert.equal(log.topics[1], env.tronWeb.address.toHex(alice.address).slice(2).padStart(64, '0'));
  assert.equal(log.topics[2], env.tronWeb.address.toHex(to.address).slice(2).padStart(64, '0'));
  assert.equal(BigInt('0x' + log.data), amount);
  assert.equal(await trc20Balance(to.address), amount);
});

test('TRC-20 reverts with a reason, and runs out of energy under a small fee_limit', async () => {
  const poor = fresh();
  const built = await env.tronWeb.transactionBuilder.triggerSmartContract(
    TOKEN, 'transfer(address,uint256)', { feeLimit: 100_000_000 },
    [{ type: 'address', value: bob.address }, { type: 'uint256', value: '1' }], carol.address);
  // Carol sends more than she has: the call reverts but the transaction is on chain.
  const tooMuch = await env.tronWeb.transactionBuilder.triggerSmartContract(
    TOKEN, 'transfer(address,uint256)', { feeLimit: 100_000_000 },
    [{ type: 'address', value: poor.address }, { type: 'uint256', value: (BigInt(carol.trc20) + 1n).toString() }],
    carol.address);
  const r1 = await env.tronWeb.trx.sendRawTransaction(await env.tronWeb.trx.sign(tooMuch.transaction, carol.private_key));
  assert.equal(r1.result, true, JSON.stringify(r1));
  const info1 = await mined(r1.txid);
  assert.equal(info1.result, 'FAILED');
  assert.equal(info1.receipt.result, 'REVERT');
  assert.equal(text(info1.resMessage), 'REVERT opcode executed');
  const reason = env.tronWeb.utils.abi.decodeParams([], ['string'], '0x' + info1.contractResult[0].slice(8), false);
  assert.equal(reason[0], 'ERC20: transfer amount exceeds balance');

  // 1 TRX of fee_limit buys 10,000 energy at 100 sun: not enough for a transfer.
  const starved = await env.tronWeb.transactionBuilder.triggerSmartContract(
    TOKEN, 'transfer(address,uint256)', { feeLimit: 1_000_000 },
    [{ type: 'address', value: bob.address }, { type: 'uint256', value: '7' }], carol.address);
  const r2 = await env.tronWeb.trx.sendRawTransaction(await env.tronWeb.trx.sign(starved.transaction, carol.private_key));
  assert.equal(r2.result, true, JSON.stringify(r2));
  const info2 = await mined(r2.txid);
  assert.equal(info2.receipt.result, 'OUT_OF_ENERGY');
  assert.equal(info2.receipt.energy_fee, 1_000_000);
  assert.equal(await trc20Balance(carol.address), BigInt(carol.trc20));
  assert.ok(built.transaction.txID);
});

test('SIGERROR: signed by a key that does not own the account', async () => {
  const tx = await env.tronWeb.transactionBuilder.sendTrx(bob.address, 1, alice.address);
  const signed = await env.tronWeb.trx.sign(tx, bob.private_key, true, true);
  const r = await env.tronWeb.trx.sendRawTransaction(signed);
  assert.equal(r.code, 'SIGERROR');
  assert.match(text(r.message), /^validate signature error .* is signed by T\w+ but it is not contained of permission\.$/);
});

test('TAPOS_ERROR: reference block hash not on the chain', async () => {
  const block = await env.tronWeb.trx.getCurrentBlock();
  const raw = block.block_header.raw_data;
  const blockHeader = {
    ref_block_bytes: raw.number.toString(16).slice(-4).padStart(4, '0'),
    ref_block_hash: 'ffffffffffffffff',
    expiration: raw.timestamp + 60_000,
    timestamp: raw.timestamp,
  };
  const tx = await env.tronWeb.transactionBuilder.sendTrx(bob.address, 3, alice.address, { blockHeader });
  const r = await env.tronWeb.trx.sendRawTransaction(await env.tronWeb.trx.sign(tx, alice.private_key));
  assert.equal(r.code, 'TAPOS_ERROR');
  assert.equal(text(r.message), 'Tapos check error');
});

test('TRANSACTION_EXPIRATION_ERROR: expiration before the head block', async () => {
  const block = await env.tronWeb.trx.getCurrentBlock();
  const raw = block.block_header.raw_data;
  const blockHeader = {
    ref_block_bytes: block.blockID.slice(12, 16),
    ref_block_hash: block.blockID.slice(16, 32),
    expiration: raw.timestamp - 1000,
    timestamp: raw.timestamp - 2000,
  };
  const tx = await env.tronWeb.transactionBuilder.sendTrx(bob.address, 4, alice.address, { blockHeader });
  const r = await env.tronWeb.trx.sendRawTransaction(await env.tronWeb.trx.sign(tx, alice.private_key));
  assert.equal(r.code, 'TRANSACTION_EXPIRATION_ERROR');
  assert.equal(text(r.message), 'transaction expired');
});

test('DUP_TRANSACTION_ERROR: the same signed transaction twice', async () => {
  const tx = await env.tronWeb.transactionBuilder.sendTrx(bob.address, 5, alice.address);
  const signed = await env.tronWeb.trx.sign(tx, alice.private_key);
  const first = await env.tronWeb.trx.sendRawTransaction(signed);
  assert.equal(first.result, true, JSON.stringify(first));
  const second = await env.tronWeb.trx.sendRawTransaction(signed);
  assert.equal(second.code, 'DUP_TRANSACTION_ERROR');
  await mined(first.txid);
  const third = await env.tronWeb.trx.sendRawTransaction(signed);
  assert.equal(third.code, 'DUP_TRANSACTION_ERROR');
});

test('CONTRACT_VALIDATE_ERROR: balance not sufficient, and TRX to oneself', async () => {
  const r = await env.tronWeb.trx.sendTransaction(bob.address, accounts.dave.trx * 10, {
    privateKey: accounts.dave.private_key,
  });
  assert.equal(r.code, 'CONTRACT_VALIDATE_ERROR');
  assert.equal(text(r.message), 'contract validate error : Validate TransferContract error, balance is not sufficient.');

  const tx = await env.tronWeb.transactionBuilder.sendToken(bob.address, 10 ** 15, '1002000', accounts.dave.address);
  const r2 = await env.tronWeb.trx.sendRawTransaction(await env.tronWeb.trx.sign(tx, accounts.dave.private_key));
  assert.equal(r2.code, 'CONTRACT_VALIDATE_ERROR');
  assert.equal(text(r2.message), 'contract validate error : assetBalance is not sufficient.');

  // The node refuses to build it, with java-tron's Error shape.
  await assert.rejects(
    env.tronWeb.fullNode.request('wallet/createtransaction',
      { owner_address: alice.address, to_address: alice.address, amount: 1, visible: true }, 'post')
      .then((res) => { if (res.Error) throw new Error(res.Error); return res; }),
    /ContractValidateException : Cannot transfer TRX to yourself\./);
});

test('BANDWITH_ERROR: too little TRX to pay for bandwidth', async () => {
  const poor = fresh();
  const fund = await env.tronWeb.trx.sendTransaction(poor.address, 50_000, { privateKey: alice.private_key });
  assert.equal(fund.result, true, JSON.stringify(fund));
  await mined(fund.txid);
  // Sending to a new account costs 100,000 sun of bandwidth the account cannot pay.
  const r = await env.tronWeb.trx.sendTransaction(fresh().address, 1, { privateKey: poor.private_key });
  assert.equal(r.code, 'BANDWITH_ERROR');
  assert.equal(text(r.message), 'AccountResourceInsufficient error');
});

test('broadcasthex answers as java-tron does', async () => {
  const tx = await env.tronWeb.transactionBuilder.sendTrx(bob.address, 6, alice.address);
  const signed = await env.tronWeb.trx.sign(tx, alice.private_key);
  const pb = env.tronWeb.utils.transaction.txJsonToPb(signed);
  pb.setSignatureList(signed.signature.map((s) => Buffer.from(s, 'hex')));
  const hex = pb.serializeBinary();
  const r = await env.tronWeb.trx.sendHexTransaction(Buffer.from(hex).toString('hex'));
  assert.equal(r.result, true, JSON.stringify(r));
  assert.equal(r.txid, signed.txID);
  assert.equal(r.transaction.txID, signed.txID);
});
