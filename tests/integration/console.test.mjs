// The approval console in a real browser (Debian's headless Chromium, driven by
// playwright-core): an approver opens /console, pastes a token, sees the held call with its
// tool and arguments, approves it with a reason, and the SDK client's call completes. A
// screenshot of the console with the call on it is saved to var/artifacts/console.png.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, receivedToolCalls } from './peers.mjs';
import { adminWorld, connectWithAdmin, adminRequest } from './admin-peers.mjs';

const { chromium } = await import(join(ROOT, 'tools/node_modules/playwright-core/index.mjs'));
const CHROMIUM = process.env.SCOPEGATE_CHROMIUM ?? '/usr/bin/chromium';
const SCREENSHOT = join(ROOT, 'var/artifacts/console.png');

// A fresh profile each time, and the flags that keep Chromium off the network.
async function launch() {
  const profile = mkdtempSync(join(tmpdir(), 'scopegate-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return { context, close: async () => { await context.close(); rmSync(profile, { recursive: true, force: true }); } };
}

test('an approver approves a held call from the console, and the call completes', async () => {
  const aw = adminWorld();
  const gw = await connectWithAdmin(aw);
  const { context, close } = await launch();
  const problems = [];
  try {
    const page = await context.newPage();
    // The strict Content-Security-Policy must not block anything the console itself uses.
    page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
    page.on('pageerror', (e) => problems.push(String(e)));

    const response = await page.goto(`${gw.admin.url}/console`);
    assert.equal(response.status(), 200);
    assert.match(response.headers()['content-security-policy'], /default-src 'none'/);
    await page.getByRole('heading', { name: 'scopegate approvals' }).waitFor();

    const call = gw.client.callTool({ name: 'write_file',
      arguments: { path: 'acme/from-console.txt', content: 'approved in the browser' } }, undefined, { timeout: 120000 });

    await page.getByLabel('Bearer token with the approver role').fill(aw.token());
    await page.getByRole('button', { name: 'Use token' }).click();
    await page.getByText('Acting as carol.').waitFor();

    // The held call appears within a refresh, with its tool, subject and arguments.
    const row = page.locator('#rows tr').filter({ hasText: 'write_file' });
    await row.waitFor({ timeout: 15000 });
    assert.match(await row.innerText(), /bob/);
    assert.match(await row.locator('pre').innerText(), /approved in the browser/);
    assert.match(await row.locator('pre').innerText(), /acme\/from-console\.txt/);
    await page.getByText(/Write tools are ON/).waitFor();
    // The waiting time ticks.
    await page.waitForFunction(() => /^[1-9]\d* s$/.test(document.querySelector('#rows tr td:nth-child(6)')?.textContent ?? ''));

    // Approving without a reason is refused in the page; nothing is sent.
    await row.getByRole('button', { name: 'Approve' }).click();
    await page.getByText(/Give a reason before you approve/).waitFor();

    await row.getByLabel(/Reason for write_file by bob/).fill('reviewed in the console');
    mkdirSync(join(ROOT, 'var/artifacts'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    console.log(`console screenshot: ${SCREENSHOT}`);
    await row.getByRole('button', { name: 'Approve' }).click();
    await page.getByText('The write_file call by bob was approved.').waitFor();

    const r = await call;
    assert.equal(r.isError ?? false, false, JSON.stringify(r));
    assert.equal(readFileSync(join(aw.world.files, 'acme', 'from-console.txt'), 'utf8'), 'approved in the browser');
    assert.equal(receivedToolCalls(aw.world, 'files').length, 1);
    await page.getByText('No call is waiting for approval.').waitFor();

    const all = await adminRequest(gw.admin, 'GET', '/admin/approvals?all=1', { token: aw.token() });
    const decided = all.json.approvals.find((a) => a.tool === 'write_file');
    assert.equal(decided.approver, 'carol');
    assert.equal(decided.reason, 'reviewed in the console');

    // The writes switch from the page: off with a reason, then on again.
    await page.getByLabel('Reason for switching writes').fill('console check');
    await page.getByRole('button', { name: 'Turn writes off' }).click();
    await page.getByText(/Write tools are OFF/).waitFor();
    const off = await adminRequest(gw.admin, 'GET', '/admin/writes', { token: aw.token() });
    assert.equal(off.json.enabled, false);
    assert.equal(off.json.actor, 'carol');
    await page.getByLabel('Reason for switching writes').fill('done checking');
    await page.getByRole('button', { name: 'Turn writes on' }).click();
    await page.getByText(/Write tools are ON/).waitFor();

    // A token that is not an approver's gets the API's own words on the page.
    await page.getByLabel('Bearer token with the approver role').fill(aw.token({ roles: ['viewer'] }));
    await page.getByRole('button', { name: 'Use token' }).click();
    await page.getByText(/does not grant role "approver"/).waitFor();

    // Only the API's expected refusal (403) was logged by the browser.
    assert.deepEqual(problems.filter((p) => !/403/.test(p)), []);
  } finally {
    await close();
    await gw.client.close();
  }
});
