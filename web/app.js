// The dashboard: polls the daemon every 2 s over the Transmission RPC (torrent-get) and the
// bttnode-earnings / bttnode-wallet methods, and renders with DOM nodes only (names and
// addresses come from peers and torrent files: they are never parsed as HTML).
import { Rpc } from './rpc.js';
import { Plot } from './plot.js';
import * as fmt from './format.js';

const rpc = new Rpc();
const POLL_MS = 2000;
const FIELDS = ['id', 'name', 'hashString', 'status', 'error', 'errorString', 'percentDone',
  'rateDownload', 'rateUpload', 'uploadRatio', 'peersConnected', 'bttnodeEarned',
  'bttnodeSpent', 'bttnodeToken', 'bttnodePayers'];
let selected = null;  // torrent id whose peers are shown
let network = '';

const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function progressBar(fraction) {
  const bar = el('div', { class: 'bar', role: 'progressbar', 'aria-valuenow': String(Math.round((fraction || 0) * 100)) });
  const fill = el('span');
  fill.style.width = fmt.percent(fraction);
  bar.append(fill, el('em', {}, fmt.percent(fraction)));
  return bar;
}

function setStatus(text, error = false) {
  const s = $('status');
  s.textContent = text;
  s.classList.toggle('error', error);
}

// A chain explorer link for the networks that have a public one.
function txLink(txid) {
  const hosts = { mainnet: 'https://tronscan.org', nile: 'https://nile.tronscan.org', shasta: 'https://shasta.tronscan.org' };
  const host = hosts[network];
  const short = `${txid.slice(0, 10)}…`;
  if (!host) return el('span', { class: 'txid', title: txid }, short);
  return el('a', { class: 'txid', title: txid, href: `${host}/#/transaction/${encodeURIComponent(txid)}`, target: '_blank', rel: 'noopener' }, short);
}

async function act(method, args) {
  try {
    await rpc.call(method, args);
    await poll();
  } catch (e) {
    setStatus(e.message, true);
  }
}

function renderTorrents(torrents) {
  const body = $('torrents').tBodies[0];
  body.replaceChildren(...torrents.map((t) => {
    const paused = t.status === 0;
    const row = el('tr', { 'data-id': String(t.id), class: t.id === selected ? 'selected' : '' },
      el('td', { class: 'name' }, t.name || t.hashString || `#${t.id}`),
      el('td', { title: t.errorString || '' }, fmt.status(t.status, t.error)),
      el('td', {}, progressBar(t.percentDone)),
      el('td', {}, fmt.rate(t.rateDownload)),
      el('td', {}, fmt.rate(t.rateUpload)),
      el('td', {}, fmt.ratio(t.uploadRatio)),
      el('td', {}, String(t.peersConnected ?? 0)),
      el('td', {}, String(t.bttnodePayers ?? 0)),
      el('td', {}, t.bttnodeEarned !== undefined ? `${fmt.amount(t.bttnodeEarned)} ${t.bttnodeToken || ''}` : '–'),
      el('td', {},
        el('button', { type: 'button', onclick: () => { selected = t.id; poll(); } }, 'Peers'),
        el('button', { type: 'button', onclick: () => act(paused ? 'torrent-start' : 'torrent-stop', { ids: [t.id] }) }, paused ? 'Resume' : 'Pause'),
        el('button', { type: 'button', onclick: () => {
          if (confirm(`Remove ${t.name}? (its data is kept)`)) act('torrent-remove', { ids: [t.id], 'delete-local-data': false });
        } }, 'Remove')));
    return row;
  }));
}

function renderPeers(torrent) {
  const section = $('detail');
  if (!torrent) { section.hidden = true; return; }
  section.hidden = false;
  $('detail-name').textContent = torrent.name || `#${torrent.id}`;
  const peers = torrent.peers || [];
  $('peers').tBodies[0].replaceChildren(...peers.map((p) => {
    const address = `${p.address}:${p.port}`;
    const payer = p.bttnodePayer || '';
    return el('tr', {},
      el('td', {}, address),
      el('td', {}, p.clientName || ''),
      el('td', {}, (p.isUTP ? 'uTP' : 'TCP') + (p.isEncrypted ? ', RC4' : '')),
      el('td', {}, fmt.rate(p.rateToClient)),
      el('td', {}, fmt.rate(p.rateToPeer)),
      el('td', {}, fmt.percent(p.progress)),
      el('td', {}, payer ? el('span', { title: payer }, `paying (${payer.slice(0, 8)}…)`) : el('span', { class: 'muted' }, '–')));
  }));
}

// bttnode-earnings: per torrent and peer (hex peer id), totals by token, the credits (txids
// of payments to us) and payments (txids of ours).
function renderEarnings(earnings) {
  const rows = [];
  for (const t of earnings.torrents || []) {
    for (const p of t.peers || []) {
      const credits = p.credits || [];
      const payments = p.payments || [];
      const sums = Object.entries(p.totals || {}).map(([token, s]) => {
        const parts = [];
        if (s.earned && s.earned !== '0') parts.push(`earned ${s.earned}`);
        if (s.spent && s.spent !== '0') parts.push(`spent ${s.spent}`);
        return parts.length ? `${parts.join(', ')} ${token}` : '';
      }).filter(Boolean);
      const cell = el('td');
      [...credits, ...payments].forEach((x, i) => {
        if (!x.txid) return;
        if (i) cell.append(' ');
        cell.append(txLink(x.txid));
      });
      const payer = credits.find((c) => c.from)?.from || '';
      rows.push(el('tr', {},
        el('td', { class: 'name' }, t.name || t.info_hash || 'other'),
        el('td', { class: 'txid', title: p.peer || '' }, p.peer ? `${p.peer.slice(0, 16)}…` : '–'),
        el('td', { class: 'txid' }, payer),
        el('td', {}, sums.join('; ') || '0'),
        cell));
    }
  }
  $('earnings').tBodies[0].replaceChildren(...rows);
}

// The wallet's fields, whatever they hold: nested objects one level deep as "key.sub".
function renderWallet(wallet) {
  network = wallet.sell?.network || wallet.buy?.network || network;
  const items = [];
  for (const [k, v] of Object.entries(wallet)) {
    if (v !== null && typeof v === 'object') {
      for (const [k2, v2] of Object.entries(v)) {
        if (k2 === 'totals' && v2 && typeof v2 === 'object') {
          // Per token: what was earned and spent, and the fees in TRX.
          for (const [token, sums] of Object.entries(v2)) {
            for (const f of ['earned', 'spent', 'pending', 'fees_trx']) {
              if (sums[f] !== undefined) items.push(el('dt', {}, `${k} ${f} (${token})`), el('dd', {}, String(sums[f])));
            }
          }
          continue;
        }
        items.push(el('dt', {}, `${k} ${k2}`), el('dd', {}, v2 !== null && typeof v2 === 'object' ? JSON.stringify(v2) : String(v2)));
      }
    } else {
      items.push(el('dt', {}, k), el('dd', {}, String(v)));
    }
  }
  $('wallet').replaceChildren(...items);
}

const rates = new Plot($('plot-rates'), [{ color: '#1f77b4' }, { color: '#2ca02c' }]);
rates.format = (v) => fmt.rate(v);
const earned = new Plot($('plot-earned'), [{ color: '#ff7f0e' }]);
earned.format = (v) => (v >= 100 ? v.toFixed(0) : v.toPrecision(3));

const NETWORK_FIELDS = ['peer-port', 'port-forwarding-enabled', 'bttnode-port-mapping'];

// "port 51413 · mapping: mapped 203.0.113.7:51413 (PCP)", or "mapping: off".
function renderNetwork(s) {
  if (s['peer-port'] === undefined) return;
  const mapping = s['port-forwarding-enabled'] ? s['bttnode-port-mapping'] || 'none' : 'off';
  $('network').textContent = `port ${s['peer-port']} · mapping: ${mapping}`;
}

let polling = false;
async function poll() {
  if (polling) return;
  polling = true;
  try {
    const { torrents = [] } = await rpc.call('torrent-get', { fields: FIELDS });
    torrents.sort((a, b) => a.id - b.id);
    // The extensions are optional: a daemon without payments answers them with an error.
    const [earnings, wallet, session] = await Promise.all([
      rpc.call('bttnode-earnings', {}).catch(() => ({})),
      rpc.call('bttnode-wallet', {}).catch(() => ({})),
      rpc.call('session-get', { fields: NETWORK_FIELDS }).catch(() => ({})),
    ]);
    renderNetwork(session);
    renderWallet(wallet);
    renderEarnings(earnings);
    renderTorrents(torrents);
    let detail = null;
    if (selected !== null && torrents.some((t) => t.id === selected)) {
      const got = await rpc.call('torrent-get', { ids: [selected], fields: ['id', 'name', 'peers'] });
      detail = (got.torrents || [])[0] || null;
    }
    renderPeers(detail);
    const down = torrents.reduce((s, t) => s + (t.rateDownload || 0), 0);
    const up = torrents.reduce((s, t) => s + (t.rateUpload || 0), 0);
    $('session-rates').textContent = `↓ ${fmt.rate(down)}  ↑ ${fmt.rate(up)}`;
    rates.push([down, up]);
    const token = torrents.find((t) => t.bttnodeToken)?.bttnodeToken;
    if (token) $('earned-token').textContent = token;
    earned.push([torrents.reduce((s, t) => s + (parseFloat(t.bttnodeEarned) || 0), 0)]);
    setStatus(`updated ${new Date().toLocaleTimeString()}`);
  } catch (e) {
    setStatus(e.message, true);
  } finally {
    polling = false;
  }
}

function readAsBase64(file) {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result).replace(/^data:[^,]*,/, ''));
    r.onerror = () => reject(r.error);
    r.readAsDataURL(file);
  });
}

$('add-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const link = $('add-link').value.trim();
  const file = $('add-file').files[0];
  const args = { paused: $('add-paused').checked };
  if (file) args.metainfo = await readAsBase64(file);
  else if (link) args.filename = link;
  else return;
  await act('torrent-add', args);
  $('add-form').reset();
});

poll();
setInterval(poll, POLL_MS);
