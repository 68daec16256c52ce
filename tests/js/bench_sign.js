// tronweb's rate of building (offline, from a given reference block) and signing
// transactions, single thread. Prints {version, trx, trc10, trc20} in transactions/second.
//
//   node bench_sign.js [seconds per kind, default 2]
'use strict';

const { TronWeb } = require('tronweb');

const tronWeb = new TronWeb({ fullHost: 'http://127.0.0.1:9' }); // never contacted
const priv = '279ff36d9bf9f305af3280034bb4187c6dd299bac6b26a3c20b999c7c0d50e6e';
const from = TronWeb.address.fromPrivateKey(priv);
const to = 'TMVQGm1qAQYVdetCeGRRkTWYYrLXuHK2HC';
const contract = 'TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t';
const blockHeader = {
  ref_block_bytes: '6431',
  ref_block_hash: '212a13dbe72ac5c0',
  expiration: 1751466492131,
  timestamp: 1751466432131,
};

const builders = {
  trx: (i) => tronWeb.transactionBuilder.sendTrx(to, i + 1, from, { blockHeader }),
  trc10: (i) => tronWeb.transactionBuilder.sendToken(to, i + 1, '1002000', from, { blockHeader }),
  trc20: async (i) =>
    (
      await tronWeb.transactionBuilder.triggerSmartContract(
        contract,
        'transfer(address,uint256)',
        { blockHeader, feeLimit: 50000000, txLocal: true },
        [
          { type: 'address', value: to },
          { type: 'uint256', value: String(i + 1) },
        ],
        from
      )
    ).transaction,
};

async function measure(build, seconds) {
  const start = process.hrtime.bigint();
  const until = start + BigInt(Math.round(seconds * 1e9));
  let done = 0;
  let now = start;
  do {
    for (let k = 0; k < 16; k++) {
      const tx = await build(done + k);
      await tronWeb.trx.sign(tx, priv);
    }
    done += 16;
    now = process.hrtime.bigint();
  } while (now < until);
  return done / (Number(now - start) / 1e9);
}

async function main() {
  const seconds = Math.max(0.2, Number(process.argv[2] || 2));
  const version = TronWeb.version;
  const out = { version };
  for (const [kind, build] of Object.entries(builders)) {
    await measure(build, Math.min(0.2, seconds / 4)); // warm-up
    out[kind] = await measure(build, seconds);
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
