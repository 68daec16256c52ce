// Checks transactions and TIP-191 signatures made by bttnode against tronweb, offline.
//
// Reads cases as JSON lines on stdin. Each case carries the inputs (private key, kind,
// recipient, amount, token, reference block id, times, fee limit or message) and what bttnode
// made of them (address, raw_data_hex, txID, signature, JSON form). tronweb builds and signs
// the same transaction from the inputs alone; every field must agree byte for byte. Prints
// one JSON line per case ({id, ok, errors}) and a last line {summary, checked, failed}.
'use strict';

const { TronWeb, utils } = require('tronweb');

const tronWeb = new TronWeb({ fullHost: 'http://127.0.0.1:9' }); // never contacted

function lower(s) {
  return String(s).replace(/^0x/, '').toLowerCase();
}

// Order-insensitive deep equality for plain JSON values.
function sameJson(a, b) {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  if (ka.length !== kb.length || ka.some((k, i) => k !== kb[i])) return false;
  return ka.every((k) => sameJson(a[k], b[k]));
}

function blockHeader(c) {
  // TAPOS: bytes 6..7 and 8..15 of the reference block id.
  return {
    ref_block_bytes: c.block_id.substring(12, 16),
    ref_block_hash: c.block_id.substring(16, 32),
    expiration: c.expiration,
    timestamp: c.timestamp,
  };
}

async function buildWithTronweb(c, from) {
  const options = { blockHeader: blockHeader(c) };
  if (c.kind === 'trx') {
    return tronWeb.transactionBuilder.sendTrx(c.to, Number(c.amount), from, options);
  }
  if (c.kind === 'trc10') {
    return tronWeb.transactionBuilder.sendToken(c.to, Number(c.amount), c.asset_id, from, options);
  }
  if (c.kind === 'trc20') {
    const result = await tronWeb.transactionBuilder.triggerSmartContract(
      c.contract,
      'transfer(address,uint256)',
      { ...options, feeLimit: c.fee_limit, txLocal: true },
      [
        { type: 'address', value: c.to },
        { type: 'uint256', value: c.amount },
      ],
      from
    );
    return result.transaction;
  }
  throw new Error('unknown kind ' + c.kind);
}

async function checkTransaction(c, errors) {
  const from = TronWeb.address.fromPrivateKey(c.priv);
  if (from !== c.address) errors.push(`address: tronweb ${from}, bttnode ${c.address}`);

  const tx = await buildWithTronweb(c, from);
  if (tx.raw_data_hex !== c.raw_data_hex) {
    errors.push(`raw_data_hex: tronweb ${tx.raw_data_hex}, bttnode ${c.raw_data_hex}`);
  }
  if (tx.txID !== c.txID) errors.push(`txID: tronweb ${tx.txID}, bttnode ${c.txID}`);
  // Our JSON form must be what tronweb makes, and pass tronweb's own consistency check.
  if (!sameJson(tx.raw_data, c.json.raw_data)) {
    errors.push(`raw_data JSON: tronweb ${JSON.stringify(tx.raw_data)}, bttnode ${JSON.stringify(c.json.raw_data)}`);
  }
  if (!utils.transaction.txCheck(c.json)) errors.push('tronweb txCheck refuses our JSON');

  const signed = await tronWeb.trx.sign(tx, c.priv);
  const theirs = lower(signed.signature[0]);
  const ours = lower(c.signature);
  if (theirs.substring(0, 128) !== ours.substring(0, 128)) {
    errors.push(`signature r|s: tronweb ${theirs.substring(0, 128)}, bttnode ${ours.substring(0, 128)}`);
  }
  const vTheirs = parseInt(theirs.substring(128), 16) % 27;
  const vOurs = parseInt(ours.substring(128), 16) % 27;
  if (ours.length !== 130 || vTheirs !== vOurs) errors.push(`signature v: tronweb ${theirs.substring(128)}, bttnode ${ours.substring(128)}`);
  // And tronweb recovers our signature to the signer.
  const v27 = (vOurs + 27).toString(16);
  const recovered = utils.crypto.ecRecover(c.txID, ours.substring(0, 128) + v27);
  if (lower(recovered) !== lower(TronWeb.address.toHex(from))) {
    errors.push(`tronweb recovers our signature to ${recovered}`);
  }
}

async function checkMessage(c, errors) {
  const from = TronWeb.address.fromPrivateKey(c.priv);
  if (from !== c.address) errors.push(`address: tronweb ${from}, bttnode ${c.address}`);
  const theirs = tronWeb.trx.signMessageV2(c.message, c.priv);
  if (theirs !== c.message_signature) {
    errors.push(`TIP-191 signature: tronweb ${theirs}, bttnode ${c.message_signature}`);
  }
  const signer = await tronWeb.trx.verifyMessageV2(c.message, c.message_signature);
  if (signer !== from) errors.push(`tronweb verifies our TIP-191 signature as ${signer}`);
}

async function main() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const lines = Buffer.concat(chunks).toString('utf8').split('\n').filter((l) => l.trim() !== '');
  const checked = {};
  let failed = 0;
  for (const line of lines) {
    const errors = [];
    let c = { id: null, kind: '?' };
    try {
      c = JSON.parse(line);
      if (c.kind === 'message') await checkMessage(c, errors);
      else await checkTransaction(c, errors);
    } catch (e) {
      errors.push('exception: ' + (e && e.stack ? e.stack : e));
    }
    checked[c.kind] = (checked[c.kind] || 0) + 1;
    if (errors.length) failed++;
    process.stdout.write(JSON.stringify({ id: c.id, kind: c.kind, ok: errors.length === 0, errors }) + '\n');
  }
  process.stdout.write(JSON.stringify({ summary: true, checked, failed }) + '\n');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
