/**
 * The web UI's admin pages (www/src/pages/users.ts, api-keys.ts, account.ts, rules.ts and
 * their parts) in Debian's Chromium through playwright-core against a real hub (broker,
 * SQLite, the camera component on real footage, the embedded Node-RED):
 *
 * - Users: an admin adds a viewer limited to one of two cameras through the form (a bad
 *   username first: its error shows at the field); the hub refuses deleting yourself and
 *   the page says so; the activity log shows the creation. The viewer, signed in in a
 *   second browser context, sees only the granted camera (dashboard and cameras) and no
 *   admin page in the nav. The admin edits the viewer's role; resetting the viewer's
 *   password signs the viewer out.
 * - Account: the viewer enrols TOTP (the secret read from the page, codes computed with
 *   otplib as the hub does; a wrong code first), gets ten recovery codes, signs out, and
 *   signing in then needs a code (a TOTP code, then a recovery code); then turns it off.
 * - API keys and devices: a key created on the page works for `GET /api/cameras` (limited
 *   to its camera) and answers 401 once revoked; a device's credentials connect to the
 *   broker, and are refused once deleted.
 * - Rules: a rule made through the form is stored, deployed by the engine and fires (a
 *   synthetic trigger activates its layout on the display); a bad id shows at its field;
 *   disable and delete.
 *
 * Every page: axe-core (no serious or critical violation) at 1280×800 and 390×844, both
 * themes on the Users page, screenshots under test-artifacts/web-ui/, no console error.
 */
import { mkdirSync } from 'node:fs';
import mqtt from 'mqtt';
import { generate } from 'otplib';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { ensureWwwBuilt } from '../www/build.ts';
import { audit, SHOTS, watchedPage } from './helpers/page-audit.ts';
import { ADMIN_PASSWORD, api, startTestHub, type TestHub } from './helpers/hub.ts';

const FOOTAGE = 'file:///usr/share/doc/opencv-doc/examples/data/vtest.avi';
const MOTION = 'tns1:RuleEngine/CellMotionDetector/Motion';
const DISPLAY = 'hall-hdmi-0';
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const VIEWER_PASSWORD = 'vera-password-1';

let h: TestHub;
let browser: Browser;
let admin: { ctx: BrowserContext; page: Page };
let viewer: { ctx: BrowserContext; page: Page };
const problems: string[] = [];
const expectedStatus = new Set<string>();

async function signIn(page: Page, path: string, username: string, password: string): Promise<void> {
  await page.goto(`${h.baseUrl}${path}`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

const userByName = async (name: string) => ((await api(h.baseUrl, 'GET', '/api/users')).body as Array<{ id: string; username: string; role: string; cameras: string[] | null; totp_enabled: boolean }>).find((u) => u.username === name);

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  await ensureWwwBuilt();
  h = await startTestHub({ detector: { enabled: false }, rules: { enabled: true } });
  for (const name of ['front', 'back']) expect((await api(h.baseUrl, 'POST', '/api/cameras', { name, paths: { detect: FOOTAGE } })).status).toBe(201);
  for (const l of [
    { id: 'overview', name: 'Overview', preset: '2x2', cells: [{ type: 'camera', camera: 'front' }, { type: 'camera', camera: 'back' }] },
    { id: 'front-zoom', name: 'Front zoom', preset: 'fullscreen', cells: [{ type: 'camera', camera: 'front' }] },
  ]) expect((await api(h.baseUrl, 'POST', '/api/layouts', l)).status).toBe(201);
  const ticket = await api(h.baseUrl, 'POST', '/api/kiosks/pairing', {}, null);
  expect((await api(h.baseUrl, 'POST', '/api/kiosks/pair', { code: ticket.body.code, id: 'hall' })).status).toBe(201);
  expect((await api(h.baseUrl, 'POST', `/api/displays/${DISPLAY}/activate`, { layout: 'overview' })).status).toBe(200);
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  // The dashboard shows latest.jpg: wait for the first frames so that no 404 is logged.
  for (const cam of ['front', 'back']) {
    const until = Date.now() + 30_000;
    while ((await api(h.baseUrl, 'GET', `/api/cameras/${cam}/latest.jpg`)).status !== 200) {
      if (Date.now() > until) throw new Error(`no frame from ${cam} within 30 s`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}, 120_000);

/** On a failure, what the two browsers showed (test-artifacts/web-ui/failed-admin-<n>-<who>.png). */
let failures = 0;
afterEach(async (ctx) => {
  if (ctx.task.result?.state !== 'fail') return;
  failures++;
  for (const [who, p] of [['admin', admin], ['viewer', viewer]] as const) {
    await p?.page.screenshot({ path: `${SHOTS}/failed-admin-${failures}-${who}.png`, fullPage: true }).catch(() => undefined);
  }
});

afterAll(async () => {
  await browser?.close();
  await h?.stop();
});

it('users: adds a viewer limited to one camera, who sees only that camera; refuses deleting yourself; edits the role', async () => {
  admin = await watchedPage(browser, DESKTOP, problems, expectedStatus);
  const page = admin.page;
  await signIn(page, '/', 'admin', ADMIN_PASSWORD);
  await page.getByRole('link', { name: 'Users', exact: true }).click();
  await page.getByRole('heading', { name: 'Users', level: 1 }).waitFor();
  await page.locator('tr[data-user="admin"]').waitFor();
  const add = page.locator('#add-user');

  // A username the hub refuses: its message at the field.
  await add.getByLabel('Username').fill('vera smith');
  await add.getByLabel('Password', { exact: true }).fill(VIEWER_PASSWORD);
  expectedStatus.add(`400 ${h.baseUrl}/api/users`);
  await add.getByRole('button', { name: 'Add user' }).click();
  await add.locator('#a-username-error').waitFor({ timeout: 30_000 });
  expect(await add.getByLabel('Username').getAttribute('aria-invalid')).toBe('true');
  expect(await add.locator('#a-username-error').textContent()).toMatch(/letters, digits/);
  expect(await userByName('vera smith')).toBeUndefined();

  await add.getByLabel('Username').fill('vera');
  await add.getByLabel('Password', { exact: true }).fill(VIEWER_PASSWORD);
  await add.getByLabel('Role').selectOption('viewer');
  await add.getByLabel('Only these cameras').check();
  await add.getByRole('checkbox', { name: 'front' }).check();
  await audit(page, 'users-add');
  await add.getByRole('button', { name: 'Add user' }).click();
  await expect.poll(() => page.locator('#users-message').textContent(), { timeout: 30_000 }).toBe('User vera added as viewer (front).');
  const vera = await userByName('vera');
  expect(vera).toMatchObject({ role: 'viewer', cameras: ['front'], totp_enabled: false });
  expect(await page.locator('tr[data-user="vera"] [data-col="cameras"]').textContent()).toBe('front');

  // The hub refuses deleting yourself; the page shows why.
  const me = (await userByName('admin'))!;
  await page.locator('tr[data-user="admin"]').getByRole('button', { name: 'Delete admin' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByRole('heading', { name: 'Delete user admin?' }).waitFor();
  expectedStatus.add(`400 ${h.baseUrl}/api/users/${me.id}`);
  await dialog.getByRole('button', { name: 'Delete admin' }).click();
  await expect.poll(() => page.locator('#users-error').textContent(), { timeout: 30_000 }).toMatch(/cannot delete yourself/);
  expect(await userByName('admin')).toBeDefined();

  // The activity log shows the creation (after a refresh of the log).
  await page.getByRole('button', { name: 'Refresh' }).click();
  await page.locator('#activity tr[data-action="user.create"]').first().waitFor({ timeout: 30_000 });
  expect(await page.locator('#activity tr[data-action="user.create"]').first().textContent()).toContain('user:vera');
  await audit(page, 'users');

  // ---- the viewer, in a second browser -----------------------------------------------------
  viewer = await watchedPage(browser, DESKTOP, problems, expectedStatus);
  const vp = viewer.page;
  await signIn(vp, '/', 'vera', VIEWER_PASSWORD);
  await vp.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor({ timeout: 30_000 });
  await vp.locator('li[data-camera="front"]').waitFor({ timeout: 30_000 });
  expect(await vp.locator('li[data-camera]').evaluateAll((els) => els.map((e) => e.getAttribute('data-camera')))).toEqual(['front']);
  const nav = vp.getByRole('navigation', { name: 'Main' });
  const navLinks = await nav.getByRole('link').allTextContents();
  expect(navLinks.map((t) => t.trim())).toEqual(expect.arrayContaining(['Dashboard', 'Events', 'Cameras']));
  for (const hidden of ['Users', 'Settings', 'Rules']) expect(navLinks.map((t) => t.trim())).not.toContain(hidden);
  await nav.getByRole('link', { name: 'Cameras', exact: true }).click();
  await vp.locator('tr[data-camera="front"]').waitFor({ timeout: 30_000 });
  expect(await vp.locator('tr[data-camera]').count()).toBe(1);
  // An admin page by its URL: refused in the page (the hub refuses the calls anyway).
  await vp.goto(`${h.baseUrl}/users`);
  await vp.getByRole('alert').filter({ hasText: 'needs the admin role' }).waitFor({ timeout: 30_000 });

  // ---- edit the viewer's role --------------------------------------------------------------
  await page.locator('tr[data-user="vera"]').getByRole('button', { name: 'Edit vera' }).click();
  const edit = page.getByRole('dialog', { name: 'Edit vera' });
  await edit.getByLabel('Role').selectOption('operator');
  await audit(page, 'users-edit');
  await edit.getByRole('button', { name: 'Save' }).click();
  await expect.poll(() => page.locator('#users-message').textContent(), { timeout: 30_000 }).toBe('User vera is now operator (front).');
  expect(await userByName('vera')).toMatchObject({ role: 'operator', cameras: ['front'] });
  expect((await api(h.baseUrl, 'PATCH', `/api/users/${vera!.id}`, { role: 'viewer' })).status).toBe(200);
}, 180_000);

it('account: the viewer enrols TOTP, then signing in needs a code; recovery codes work; turning it off needs the password', async () => {
  const vp = viewer.page;
  await vp.goto(`${h.baseUrl}/`);
  await vp.locator('#user-name').click();
  await vp.getByRole('heading', { name: 'Your account', level: 1 }).waitFor({ timeout: 30_000 });
  await expect.poll(() => vp.locator('#me-cameras').textContent(), { timeout: 30_000 }).toBe('front');
  expect(await vp.locator('#me-role').textContent()).toBe('viewer');
  expect(await vp.locator('#totp-state').textContent()).toBe('off');
  await audit(vp, 'account');

  await vp.getByRole('button', { name: 'Set up two-factor sign-in' }).click();
  const qr = vp.locator('#totp-qr');
  await qr.waitFor({ timeout: 30_000 });
  expect(await qr.getAttribute('role')).toBe('img');
  expect((await qr.locator('path').getAttribute('d'))!.length).toBeGreaterThan(1000);
  const secret = await vp.getByLabel('Secret key', { exact: true }).inputValue();
  expect(secret).toMatch(/^[A-Z2-7]{16,}$/);
  await audit(vp, 'account-totp-setup');

  // A wrong code: refused at the field.
  const right = await generate({ secret });
  const wrong = String((Number(right) + 500_000) % 1_000_000).padStart(6, '0');
  expectedStatus.add(`400 ${h.baseUrl}/api/auth/totp/enable`);
  await vp.getByLabel('Code from the app').fill(wrong);
  await vp.getByRole('button', { name: 'Turn on two-factor sign-in' }).click();
  await vp.locator('#t-code-error').waitFor({ timeout: 30_000 });
  expect(await vp.getByLabel('Code from the app').getAttribute('aria-invalid')).toBe('true');
  expect((await userByName('vera'))!.totp_enabled).toBe(false);

  await vp.getByLabel('Code from the app').fill(await generate({ secret }));
  await vp.getByRole('button', { name: 'Turn on two-factor sign-in' }).click();
  const codesField = vp.getByLabel('Recovery codes', { exact: true });
  await codesField.waitFor({ timeout: 30_000 });
  const codes = (await codesField.inputValue()).split('\n');
  expect(codes).toHaveLength(10);
  for (const c of codes) expect(c).toMatch(/^[0-9a-f]{10}$/);
  expect(new Set(codes).size).toBe(10);
  expect(await vp.locator('#totp-state').textContent()).toBe('on');
  expect((await userByName('vera'))!.totp_enabled).toBe(true);
  const download = vp.getByRole('link', { name: 'Download as .txt' });
  expect(await download.getAttribute('download')).toBe('vigil-recovery-codes.txt');
  expect(await download.getAttribute('href')).toMatch(/^blob:/);
  await viewer.ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: h.baseUrl });
  await vp.getByRole('button', { name: 'Copy Recovery codes' }).click();
  await expect.poll(() => vp.locator('vigil-shown-once').locator('[role="status"]').textContent(), { timeout: 10_000 }).toBe('Copied.');
  expect(await vp.evaluate(() => navigator.clipboard.readText())).toBe(codes.join('\n'));
  await audit(vp, 'account-recovery-codes');
  await vp.getByRole('button', { name: 'Done, I saved them' }).click();

  // Sign out; the password alone no longer opens a session.
  await vp.locator('#logout').click();
  expectedStatus.add(`401 ${h.baseUrl}/api/auth/login`);
  await vp.getByLabel('Username').fill('vera');
  await vp.getByLabel('Password', { exact: true }).fill(VIEWER_PASSWORD);
  await vp.getByRole('button', { name: 'Sign in' }).click();
  await vp.getByRole('heading', { name: 'Two-factor authentication' }).waitFor({ timeout: 30_000 });
  await vp.getByLabel('Authentication code').fill(await generate({ secret }));
  await vp.getByRole('button', { name: 'Verify' }).click();
  // Signed in again, on the page where the session ended.
  await vp.getByRole('heading', { name: 'Your account', level: 1 }).waitFor({ timeout: 30_000 });
  expect(await vp.locator('#user-name').textContent()).toMatch(/vera/);
  expect((await api(h.baseUrl, 'POST', '/api/auth/login', { username: 'vera', password: VIEWER_PASSWORD }, null)).body.error.code).toBe('totp_required');

  // A recovery code works once.
  await vp.locator('#logout').click();
  await vp.getByLabel('Username').fill('vera');
  await vp.getByLabel('Password', { exact: true }).fill(VIEWER_PASSWORD);
  await vp.getByRole('button', { name: 'Sign in' }).click();
  await vp.getByLabel('Authentication code').fill(codes[3]!);
  await vp.getByRole('button', { name: 'Verify' }).click();
  // Signed in again, on the page where the session ended.
  await vp.getByRole('heading', { name: 'Your account', level: 1 }).waitFor({ timeout: 30_000 });
  expect(await vp.locator('#user-name').textContent()).toMatch(/vera/);
  expect((await api(h.baseUrl, 'POST', '/api/auth/login', { username: 'vera', password: VIEWER_PASSWORD, totp: codes[3] }, null)).status).toBe(401);

  // Turning it off: a wrong password at its field, then the right one.
  await vp.locator('#user-name').click();
  await vp.getByRole('heading', { name: 'Your account', level: 1 }).waitFor({ timeout: 30_000 });
  await expect.poll(() => vp.locator('#totp-state').textContent(), { timeout: 30_000 }).toBe('on');
  expectedStatus.add(`400 ${h.baseUrl}/api/auth/totp/disable`);
  await vp.getByLabel('Your password').fill('not-the-password');
  await vp.getByRole('button', { name: 'Turn off two-factor sign-in' }).click();
  await expect.poll(() => vp.locator('#t-password-error').textContent(), { timeout: 30_000 }).toBe('The password is wrong.');
  await vp.getByLabel('Your password').fill(VIEWER_PASSWORD);
  await vp.getByRole('button', { name: 'Turn off two-factor sign-in' }).click();
  await expect.poll(() => vp.locator('#totp-state').textContent(), { timeout: 30_000 }).toBe('off');
  expect((await userByName('vera'))!.totp_enabled).toBe(false);
  expect((await api(h.baseUrl, 'POST', '/api/auth/login', { username: 'vera', password: VIEWER_PASSWORD }, null)).status).toBe(200);
}, 180_000);

it('users: resetting the viewer\'s password signs the viewer out', async () => {
  const page = admin.page;
  const vp = viewer.page;
  await page.locator('tr[data-user="vera"]').getByRole('button', { name: 'Reset password of vera' }).click();
  const reset = page.getByRole('dialog', { name: 'Reset the password of vera' });
  expect(await reset.textContent()).toMatch(/out everywhere/);
  await reset.getByLabel('New password', { exact: true }).fill('vera-password-2');
  await reset.getByLabel('Repeat the new password').fill('vera-password-2');
  await reset.getByRole('button', { name: /Set the password/ }).click();
  await expect.poll(() => page.locator('#users-message').textContent(), { timeout: 30_000 }).toMatch(/signed out everywhere/);
  // The viewer's next request finds the session gone: the sign-in form returns.
  for (const p of ['/api/cameras', '/api/system', '/api/auth/refresh', '/api/auth/me']) expectedStatus.add(`401 ${h.baseUrl}${p}`);
  await vp.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Cameras', exact: true }).click();
  await vp.getByRole('heading', { name: 'Sign in to Vigil' }).waitFor({ timeout: 30_000 });
  expect(await vp.getByRole('status').filter({ hasText: 'session has ended' }).count()).toBe(1);
  expect((await api(h.baseUrl, 'POST', '/api/auth/login', { username: 'vera', password: VIEWER_PASSWORD }, null)).status).toBe(401);
  expect((await api(h.baseUrl, 'POST', '/api/auth/login', { username: 'vera', password: 'vera-password-2' }, null)).status).toBe(200);
  await viewer.ctx.close();
}, 180_000);

it('account: the viewer changes their own password; their other session ends, this one stays', async () => {
  const other = await api(h.baseUrl, 'POST', '/api/auth/login', { username: 'vera', password: 'vera-password-2' }, null);
  expect(other.status).toBe(200);
  const vp = await watchedPage(browser, DESKTOP, problems, expectedStatus);
  await signIn(vp.page, '/account', 'vera', 'vera-password-2');
  const page = vp.page;
  await page.getByRole('heading', { name: 'Password', level: 2 }).waitFor({ timeout: 30_000 });
  expectedStatus.add(`400 ${h.baseUrl}/api/auth/password`);
  await page.getByLabel('Current password').fill('not-it');
  await page.getByLabel('New password', { exact: true }).fill('vera-password-3');
  await page.getByLabel('Repeat the new password').fill('vera-password-3');
  await page.getByRole('button', { name: 'Change the password' }).click();
  await expect.poll(() => page.locator('#p-current-error').textContent(), { timeout: 30_000 }).toBe('The current password is wrong.');
  await page.getByLabel('Current password').fill('vera-password-2');
  await page.getByLabel('Repeat the new password').fill('vera-password-x');
  await page.getByRole('button', { name: 'Change the password' }).click();
  await expect.poll(() => page.locator('#p-again-error').textContent()).toBe('The two new passwords differ.');
  await page.getByLabel('Repeat the new password').fill('vera-password-3');
  await page.getByRole('button', { name: 'Change the password' }).click();
  // Other sessions: the API login above, and the one the password reset test checked with.
  await expect.poll(() => page.locator('#account-message').textContent(), { timeout: 30_000 }).toBe('Your password is changed. 2 other sessions were signed out.');
  await audit(page, 'account-password');
  // The other session (a bearer token) is gone; this page still works; the new password signs in.
  expect((await api(h.baseUrl, 'GET', '/api/auth/me', undefined, { token: other.body.access_token })).status).toBe(401);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Cameras', exact: true }).click();
  await page.getByRole('heading', { name: 'Cameras', level: 1 }).waitFor({ timeout: 30_000 });
  expect((await api(h.baseUrl, 'POST', '/api/auth/login', { username: 'vera', password: 'vera-password-2' }, null)).status).toBe(401);
  expect((await api(h.baseUrl, 'POST', '/api/auth/login', { username: 'vera', password: 'vera-password-3' }, null)).status).toBe(200);
  const acts = (await api(h.baseUrl, 'GET', '/api/activity?action=auth.password')).body as { outcome: string }[];
  expect(acts.map((a) => a.outcome).sort()).toEqual(['denied', 'ok']);
  await vp.ctx.close();
}, 180_000);

it('API keys and devices: a key shown once works until revoked; a device connects to the broker until deleted', async () => {
  const page = admin.page;
  await page.goto(`${h.baseUrl}/users`);
  await page.getByRole('link', { name: 'API keys and devices' }).click();
  await page.getByRole('heading', { name: 'API keys and devices', level: 1 }).waitFor({ timeout: 30_000 });
  expect(await page.getByRole('link', { name: 'Users', exact: true }).first().getAttribute('aria-current')).toBe('page');
  await page.locator('#no-keys').waitFor({ timeout: 30_000 });

  const keyForm = page.locator('#key-form');
  await keyForm.getByLabel('Key name').fill('backup-script');
  await keyForm.getByLabel('Scope').selectOption('read');
  await keyForm.getByLabel('Only these cameras').check();
  await keyForm.getByRole('checkbox', { name: 'back' }).check();
  await keyForm.getByRole('button', { name: 'Create API key' }).click();
  const keyField = page.getByLabel('API key', { exact: true });
  await keyField.waitFor({ timeout: 30_000 });
  expect(await page.locator('#new-key').textContent()).toMatch(/shown only once/);
  const key = await keyField.inputValue();
  expect(key).toMatch(/^vgl_/);
  await audit(page, 'api-keys-created');
  const cams = await api(h.baseUrl, 'GET', '/api/cameras', undefined, { apiKey: key });
  expect(cams.status).toBe(200);
  expect(cams.body.map((c: { name: string }) => c.name)).toEqual(['back']);
  expect(await page.locator('tr[data-key="backup-script"] [data-state]').textContent()).toBe('active');

  // Revoke: Cancel keeps it; confirming revokes it.
  const row = page.locator('tr[data-key="backup-script"]');
  await row.getByRole('button', { name: 'Revoke backup-script' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByRole('heading', { name: 'Revoke the API key backup-script?' }).waitFor();
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  expect((await api(h.baseUrl, 'GET', '/api/cameras', undefined, { apiKey: key })).status).toBe(200);
  await row.getByRole('button', { name: 'Revoke backup-script' }).click();
  await dialog.getByRole('button', { name: 'Revoke backup-script' }).click();
  await expect.poll(() => row.locator('[data-state]').textContent(), { timeout: 30_000 }).toBe('revoked');
  expect(await page.locator('#keys-message').textContent()).toBe('API key backup-script revoked.');
  expect(await page.locator('#new-key').count()).toBe(0);
  expect((await api(h.baseUrl, 'GET', '/api/cameras', undefined, { apiKey: key })).status).toBe(401);

  // ---- devices -----------------------------------------------------------------------------
  const devForm = page.locator('#device-form');
  expectedStatus.add(`400 ${h.baseUrl}/api/devices`);
  await devForm.getByLabel('Device id').fill('Garage Cam');
  await devForm.getByRole('button', { name: 'Create device' }).click();
  await devForm.locator('#d-id-error').waitFor({ timeout: 30_000 });
  expect(await devForm.getByLabel('Device id').getAttribute('aria-invalid')).toBe('true');

  await devForm.getByLabel('Device id').fill('garage');
  await devForm.getByLabel('Kind').selectOption('camera');
  await devForm.getByRole('button', { name: 'Create device' }).click();
  const pass = page.getByLabel('MQTT password', { exact: true });
  await pass.waitFor({ timeout: 30_000 });
  const creds = { username: await page.getByLabel('MQTT username', { exact: true }).inputValue(), password: await pass.inputValue() };
  expect(creds.username).toBe('garage');
  expect(creds.password).toMatch(/^vgd_garage_/);
  await audit(page, 'api-keys-device');
  const c = await mqtt.connectAsync(h.mqttUrl, { ...creds, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 10_000 });
  // Its ACL: it publishes under its own camera.
  const granted = await c.subscribeAsync('vigil/camera/garage/#', { qos: 1 });
  expect(granted[0]!.qos).toBe(1);
  await c.endAsync();
  const dev = (await api(h.baseUrl, 'GET', '/api/devices')).body.find((d: { id: string }) => d.id === 'garage');
  expect(dev).toMatchObject({ kind: 'camera', revoked_at: null });

  const drow = page.locator('tr[data-device="garage"]');
  await drow.getByRole('button', { name: 'Delete garage' }).click();
  await dialog.getByRole('button', { name: 'Delete garage' }).click();
  await expect.poll(() => drow.locator('[data-state]').textContent(), { timeout: 30_000 }).toBe('revoked');
  await expect(mqtt.connectAsync(h.mqttUrl, { ...creds, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 10_000 })).rejects.toThrow(/not authori|bad user|refused/i);
  await audit(page, 'api-keys');
}, 180_000);

it('rules: a rule made in the form is stored, deployed and fires; a bad id shows at its field; disable and delete', async () => {
  const page = admin.page;
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Rules', exact: true }).click();
  await page.getByRole('heading', { name: 'Rules', level: 1 }).waitFor({ timeout: 30_000 });
  await page.locator('#no-rules').waitFor({ timeout: 30_000 });
  const editor = page.getByRole('link', { name: /Open the Node-RED editor/ });
  expect(await editor.getAttribute('href')).toBe('/rules');
  expect(await editor.getAttribute('target')).toBe('_blank');
  expect(await editor.getAttribute('data-external')).not.toBeNull();

  const form = page.locator('#rule-form');
  await form.getByLabel('Rule name').fill('Front motion zoom');
  await form.getByLabel('Rule id').fill('Bad Id');
  await form.getByLabel('From camera').selectOption('front');
  await form.getByLabel('Event topic').fill(MOTION);
  await form.getByLabel('Property operation').selectOption('Changed');
  await form.getByLabel('Data values (optional)').fill('IsMotion = true');
  await form.getByLabel('Display', { exact: true }).selectOption(DISPLAY);
  await form.getByLabel('Layout', { exact: true }).selectOption('front-zoom');
  await form.getByLabel('Go back after (s)').fill('60');
  await form.getByLabel('Go back to').selectOption('overview');
  await form.getByLabel('Cooldown (s)').fill('2');
  expectedStatus.add(`400 ${h.baseUrl}/api/rules`);
  await form.getByRole('button', { name: 'Create rule' }).click();
  await form.locator('#r-id-error').waitFor({ timeout: 30_000 });
  expect(await form.getByLabel('Rule id').getAttribute('aria-invalid')).toBe('true');
  expect(await form.locator('#r-id-error').textContent()).toMatch(/slug/);
  expect(await form.getByLabel('Rule id').evaluate((el) => el === (el.getRootNode() as ShadowRoot).activeElement)).toBe(true);
  await audit(page, 'rules-error');
  expect((await api(h.baseUrl, 'GET', '/api/rules')).body).toEqual([]);

  // Left empty, the id is made from the name.
  const t0 = Date.now();
  await form.getByLabel('Rule id').fill('');
  await form.getByRole('button', { name: 'Create rule' }).click();
  await expect.poll(() => page.locator('#rules-message').textContent(), { timeout: 30_000 }).toBe('Rule Front motion zoom created.');
  const stored = (await api(h.baseUrl, 'GET', '/api/rules/front-motion-zoom')).body;
  expect(stored).toEqual({
    id: 'front-motion-zoom', name: 'Front motion zoom', enabled: true,
    when: { camera: 'front', topic: MOTION, property_op: 'Changed', data: { IsMotion: true } },
    do: { action: 'activate_layout', display: DISPLAY, layout_id: 'front-zoom', revert_after_seconds: 60, revert_to: 'overview', cooldown_seconds: 2 },
  });
  const status = (await api(h.baseUrl, 'GET', '/api/rules-status')).body;
  expect(status.deployed).toBe(true);
  expect(status.synced_at).toBeGreaterThanOrEqual(t0);
  await expect.poll(() => page.locator('#engine-state').textContent(), { timeout: 30_000 }).toBe('deployed');
  const row = page.locator('tr[data-rule="front-motion-zoom"]');
  expect(await row.textContent()).toContain('Show front-zoom on hall-hdmi-0');

  // It fires: a synthetic motion event of the front camera puts its layout on the display.
  expect((await api(h.baseUrl, 'GET', `/api/displays/${DISPLAY}`)).body.layout_id).toBe('overview');
  await new Promise((r) => setTimeout(r, 500));
  expect((await api(h.baseUrl, 'POST', '/api/events/trigger', { camera: 'front', topic: MOTION, data: { IsMotion: 'true' } })).status).toBe(202);
  await expect.poll(async () => (await api(h.baseUrl, 'GET', `/api/displays/${DISPLAY}`)).body.layout_id, { timeout: 15_000 }).toBe('front-zoom');
  await audit(page, 'rules');

  // Disable through the switch: stored, and a matching event no longer fires it.
  expect((await api(h.baseUrl, 'POST', `/api/displays/${DISPLAY}/activate`, { layout: 'overview' })).status).toBe(200);
  await row.getByRole('checkbox', { name: 'Front motion zoom enabled' }).uncheck();
  await expect.poll(async () => (await api(h.baseUrl, 'GET', '/api/rules/front-motion-zoom')).body.enabled, { timeout: 30_000 }).toBe(false);
  await expect.poll(() => page.locator('#rules-message').textContent(), { timeout: 30_000 }).toBe('Rule Front motion zoom disabled.');
  await new Promise((r) => setTimeout(r, 2500)); // past the cooldown
  expect((await api(h.baseUrl, 'POST', '/api/events/trigger', { camera: 'front', topic: MOTION, data: { IsMotion: true } })).status).toBe(202);
  await new Promise((r) => setTimeout(r, 2000));
  expect((await api(h.baseUrl, 'GET', `/api/displays/${DISPLAY}`)).body.layout_id).toBe('overview');

  // Edit: the form fills from the rule; the id is fixed.
  await row.getByRole('button', { name: 'Edit Front motion zoom' }).click();
  await expect.poll(() => form.getByLabel('Rule name').inputValue(), { timeout: 10_000 }).toBe('Front motion zoom');
  expect(await form.getByLabel('Rule id').inputValue()).toBe('front-motion-zoom');
  expect(await form.getByLabel('Data values (optional)').inputValue()).toBe('IsMotion = true');
  await form.getByLabel('Cooldown (s)').fill('5');
  await form.getByRole('button', { name: 'Save rule' }).click();
  await expect.poll(() => page.locator('#rules-message').textContent(), { timeout: 30_000 }).toBe('Rule Front motion zoom saved.');
  expect((await api(h.baseUrl, 'GET', '/api/rules/front-motion-zoom')).body.do.cooldown_seconds).toBe(5);

  await row.getByRole('button', { name: 'Delete Front motion zoom' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete Front motion zoom' }).click();
  await page.locator('#no-rules').waitFor({ timeout: 30_000 });
  expect((await api(h.baseUrl, 'GET', '/api/rules/front-motion-zoom')).status).toBe(404);
  await admin.ctx.close();
}, 180_000);

it('the four pages on a phone, and in both themes', async () => {
  const { ctx, page } = await watchedPage(browser, PHONE, problems, expectedStatus);
  await signIn(page, '/users', 'admin', ADMIN_PASSWORD);
  await page.locator('tr[data-user="vera"]').waitFor({ timeout: 30_000 });
  await audit(page, 'users');
  expect(await page.evaluate(() => document.documentElement.scrollWidth), '/users fits the phone\'s width').toBeLessThanOrEqual(PHONE.width);
  const before = await page.evaluate(() => document.documentElement.dataset.theme ?? '');
  await page.getByRole('button', { name: /theme$/ }).click();
  expect(await page.evaluate(() => document.documentElement.dataset.theme)).not.toBe(before);
  await audit(page, `users-${await page.evaluate(() => document.documentElement.dataset.theme)}`);
  await page.getByRole('button', { name: /theme$/ }).click();
  for (const [path, ready] of [['/api-keys', 'tr[data-key="backup-script"]'], ['/account', '#totp-state'], ['/automations', '#rule-form']] as const) {
    await page.goto(`${h.baseUrl}${path}`);
    await page.locator(ready).waitFor({ timeout: 30_000 }); // a deep link: the hub serves the page (also /api-keys)
    await audit(page, path.slice(1));
    expect(await page.evaluate(() => document.documentElement.scrollWidth), `${path} fits the phone's width`).toBeLessThanOrEqual(PHONE.width);
  }
  // On a phone the nav is behind the menu button; the admin's nav offers the admin pages.
  await page.getByRole('button', { name: 'Menu' }).click();
  const links = (await page.getByRole('navigation', { name: 'Main' }).getByRole('link').allTextContents()).map((t) => t.trim());
  expect(links).toEqual(expect.arrayContaining(['Users', 'Rules', 'Settings']));
  await ctx.close();
  expect(problems).toEqual([]);
}, 180_000);
