// The dashboard in headless Chromium (playwright-core, Debian's /usr/bin/chromium) against a
// running daemon: the page loads behind basic auth, shows the torrent's name and progress,
// pauses and resumes it, logs no console error, and is saved as a screenshot.
// With --add-torrent, that .torrent is uploaded through the page's form, then removed from
// the page.
//   node dashboard.mjs --url URL --user U --password P --name NAME --id ID --screenshot FILE
//                      --js-dir DIR [--add-torrent FILE --add-name NAME]
import { createRequire } from 'node:module';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values: a } = parseArgs({
  options: {
    url: { type: 'string' }, user: { type: 'string' }, password: { type: 'string' },
    name: { type: 'string' }, id: { type: 'string' }, screenshot: { type: 'string' },
    'js-dir': { type: 'string' }, 'add-torrent': { type: 'string' }, 'add-name': { type: 'string' },
    'peer-port': { type: 'string' },
  },
});
const require = createRequire(path.join(a['js-dir'], 'package.json'));
const { chromium, request } = require('playwright-core');

function fail(what) {
  console.error(`FAIL: ${what}`);
  process.exitCode = 1;
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
try {
  // Without credentials the daemon refuses the page (a browser would ask for them).
  const anonymous = await request.newContext();
  const refused = await anonymous.get(a.url + '/');
  if (refused.status() !== 401) fail(`the page answered ${refused.status()} without credentials`);
  if (!/^Basic /.test(refused.headers()['www-authenticate'] || '')) fail('no WWW-Authenticate: Basic on the 401');
  await anonymous.dispose();

  const context = await browser.newContext({
    httpCredentials: { username: a.user, password: a.password },
    viewport: { width: 1280, height: 900 },
  });
  const page = await context.newPage();
  const errors = [];
  // The RPC's first answer is a 409 carrying the session id (the protocol's handshake), which
  // Chromium logs as a failed load; any other failed load is an error.
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    if (/status of 409 \(Conflict\)/.test(m.text()) && m.location().url.endsWith('/transmission/rpc')) return;
    errors.push(`${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));

  const res = await page.goto(a.url + '/', { waitUntil: 'load' });
  if (res.status() !== 200) fail(`the page answered ${res.status()}`);
  const row = page.locator(`#torrents tbody tr[data-id="${a.id}"]`);
  await row.waitFor({ timeout: 15000 });
  const name = await row.locator('td.name').textContent();
  if (name !== a.name) fail(`the row shows ${JSON.stringify(name)}, not ${JSON.stringify(a.name)}`);
  const progress = await row.locator('.bar em').textContent();
  if (progress !== '100.0%') fail(`the progress shows ${progress}`);
  const state = await row.locator('td').nth(1).textContent();
  if (state !== 'seeding') fail(`the state shows ${state}`);
  console.log(`row: ${name} ${progress} ${state}`);
  // The header names the peer port and its mapping (off: the daemon was told not to map).
  const network = await page.locator('#network').textContent();
  if (network !== `port ${a['peer-port']} · mapping: off`) fail(`the network line shows ${JSON.stringify(network)}`);
  console.log(`network: ${network}`);

  // Pause and resume from the page: the next poll shows the daemon's new state.
  await row.getByRole('button', { name: 'Pause' }).click();
  await page.locator(`#torrents tbody tr[data-id="${a.id}"] td:nth-child(2)`, { hasText: 'stopped' })
    .waitFor({ timeout: 10000 });
  await page.locator(`#torrents tbody tr[data-id="${a.id}"]`).getByRole('button', { name: 'Resume' }).click();
  await page.locator(`#torrents tbody tr[data-id="${a.id}"] td:nth-child(2)`, { hasText: /seed/ })
    .waitFor({ timeout: 20000 });
  console.log('paused and resumed from the page');

  // The peers panel opens; live updates keep the status line fresh.
  await page.locator(`#torrents tbody tr[data-id="${a.id}"]`).getByRole('button', { name: 'Peers' }).click();
  await page.locator('#detail:not([hidden])').waitFor({ timeout: 5000 });
  const first = await page.locator('#status').textContent();
  await page.waitForFunction((t) => document.getElementById('status').textContent !== t, first,
    { timeout: 6000 });
  if (await page.locator('#status.error').count()) fail(`status: ${await page.locator('#status').textContent()}`);

  if (a['add-torrent']) {
    await page.locator('#add-file').setInputFiles(a['add-torrent']);
    await page.locator('#add-paused').check();
    await page.getByRole('button', { name: 'Add' }).click();
    const added = page.locator('#torrents tbody tr', { has: page.locator('td.name', { hasText: a['add-name'] }) });
    await added.waitFor({ timeout: 10000 });
    const addedState = await added.locator('td').nth(1).textContent();
    if (addedState !== 'stopped') fail(`the torrent added paused shows ${addedState}`);
    console.log(`added from the page: ${a['add-name']} (${addedState})`);
    page.once('dialog', (d) => d.accept());
    await added.getByRole('button', { name: 'Remove' }).click();
    await added.waitFor({ state: 'detached', timeout: 10000 });
    console.log('removed from the page');
  }

  await page.screenshot({ path: a.screenshot, fullPage: true });
  if (errors.length) fail(`console errors:\n  ${errors.join('\n  ')}`);
  await context.close();
} finally {
  await browser.close();
}
