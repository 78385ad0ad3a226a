/**
 * The web UI's System and Settings pages (www/src/pages/system.ts, system-chart.ts,
 * settings.ts) in Debian's Chromium through playwright-core against a real hub started from
 * a real YAML file (the camera component on real footage, metrics sampled every 500 ms, one
 * key locked by its environment variable):
 *
 * - System: the camera goes online with its fps, the components table shows the camera
 *   component, the CPU and memory charts have points and a text summary, and the logs tail
 *   shows a warning the test makes the hub log — without a reload —, filtered by level,
 *   paused and resumed.
 * - Settings: the env-locked field is disabled with its variable named; changing the clip
 *   retention and turning Home Assistant on under a new discovery prefix writes both into
 *   the file (comments kept) and `GET /api/settings`, and Home Assistant's configs appear
 *   under the new prefix for an `ha` device; a bad value shows at its field; an MQTT change
 *   is saved for the next restart with the notice.
 *
 * axe-core (no serious or critical violation) and screenshots at 1280×800 (light theme) and
 * 390×844 (dark theme); no console error.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ensureWwwBuilt } from '../www/build.ts';
import { audit, SHOTS, watchedPage } from './helpers/page-audit.ts';
import { ADMIN_PASSWORD, api, startTestHub, type TestHub } from './helpers/hub.ts';
import { MqttRecorder } from './helpers/mqtt-recorder.ts';

const FOOTAGE = 'file:///usr/share/doc/opencv-doc/examples/data/vtest.avi';
// The listeners as the test hub runs them (ports picked at start), so nothing waits for a restart at first.
const YAML = `# Vigil configuration for the web UI test
mqtt:
  port: 0
  host: 127.0.0.1
recordings:
  # keep event clips a month
  clip_retain_days: 30
`;

let h: TestHub;
let browser: Browser;
let dir: string;
let file: string;
const problems: string[] = [];
const expectedStatus = new Set<string>();

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  await ensureWwwBuilt();
  dir = mkdtempSync(join(tmpdir(), 'vigil-ui-sys-'));
  file = join(dir, 'vigil.yaml');
  writeFileSync(file, YAML);
  h = await startTestHub({ detector: { enabled: false } }, { configFile: file, hub: { metricsIntervalMs: 500, env: { VIGIL_MQTT__PREFIX: 'vigil' } } });
  expect((await api(h.baseUrl, 'POST', '/api/cameras', { name: 'porch', paths: { detect: FOOTAGE }, detect: { width: 320, fps: 5 } })).status).toBe(201);
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await h?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function signIn(page: Page, path: string, heading: string): Promise<void> {
  await page.goto(`${h.baseUrl}${path}`);
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill(ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: heading, level: 1 }).waitFor({ timeout: 30_000 });
}

let provoked = 0;
/**
 * Publishes a message the hub's event store rejects with a warning (what the logs tail must
 * show): an event image that is not a JPEG, on a new topic each time (such warnings are
 * logged once per topic a minute).
 */
async function provokeWarning(): Promise<void> {
  const c = await mqtt.connectAsync(h.mqttUrl, { ...h.mqttCreds!, protocolVersion: 4 });
  await c.publishAsync(`vigil/events/not-a-jpeg-${++provoked}/snapshot`, 'this is not a JPEG', { qos: 1 });
  await c.endAsync();
}

it('shows the camera, components, live charts and a log tail that follows the hub', async () => {
  const { ctx, page } = await watchedPage(browser, { width: 1280, height: 800 }, problems, expectedStatus);
  await signIn(page, '/system', 'System');
  expect(await page.getByRole('link', { name: 'System', exact: true }).getAttribute('aria-current')).toBe('page');

  // The camera, live from the bus.
  const cam = page.locator('tr[data-camera="porch"]');
  await expect.poll(() => cam.locator('[data-badge="availability"]').textContent(), { timeout: 30_000 }).toBe('online');
  await expect.poll(async () => Number(await cam.locator('[data-field="fps"]').textContent()), { timeout: 30_000 }).toBeGreaterThan(0);
  const apiFps = (await api(h.baseUrl, 'GET', '/api/system')).body.cameras.porch.fps;
  expect(apiFps).toBeGreaterThan(0);
  await expect.poll(() => page.locator('#mqtt-connected').textContent()).toBe('connected');
  expect(await page.getByText('Hub process', { exact: true }).count()).toBe(1);

  // Components: the in-process camera component runs.
  const comp = page.locator('tr[data-component="camera"]');
  await expect.poll(() => comp.locator('[data-badge="status"]').textContent(), { timeout: 15_000 }).toMatch(/^(online|running)$/);
  expect(await page.locator('tr[data-component="homeassistant"]').count()).toBe(1);

  // Charts fill as the hub samples (every 500 ms here); each has a title, its latest value and a summary.
  for (const id of ['chart-cpu', 'chart-memory']) {
    const chart = page.locator(`#${id}`);
    await expect.poll(async () => Number(await chart.locator('figure').getAttribute('data-points')), { timeout: 20_000 }).toBeGreaterThanOrEqual(2);
  }
  const cpu = page.locator('#chart-cpu');
  expect(await cpu.locator('figcaption .title').textContent()).toBe('CPU (hub process)');
  expect(await cpu.locator('figcaption .latest').textContent()).toMatch(/^\d+\.\d %$/);
  const img = cpu.getByRole('img');
  expect(await img.getAttribute('aria-label')).toMatch(/^CPU \(hub process\) over the last .*: CPU latest \d+\.\d %, lowest \d+\.\d %, highest \d+\.\d %$/);
  expect(await img.locator('polyline').count()).toBeGreaterThanOrEqual(1);
  const mem = await page.locator('#chart-memory figcaption .latest').textContent();
  const rssMib = Number(/Resident (\d+) MiB/.exec(mem ?? '')?.[1]);
  expect(rssMib).toBeGreaterThan(20);
  // The page's figure is the hub's: within 30 % of what the API reports now.
  const rssApi = (await api(h.baseUrl, 'GET', '/api/system')).body.process.rss_bytes / 2 ** 20;
  expect(Math.abs(rssMib - rssApi) / rssApi).toBeLessThan(0.3);
  // More points arrive without a reload.
  const before = Number(await cpu.locator('figure').getAttribute('data-points'));
  await expect.poll(async () => Number(await cpu.locator('figure').getAttribute('data-points')), { timeout: 15_000 }).toBeGreaterThan(before);

  // The logs tail shows a warning the hub logs now, without a reload.
  const log = page.getByRole('log', { name: 'Hub log lines' });
  await expect.poll(() => log.locator('.l').count(), { timeout: 15_000 }).toBeGreaterThan(0);
  await provokeWarning();
  const warnLine = log.locator('.l', { hasText: 'event image is not a JPEG or has a bad id; dropped' });
  await warnLine.first().waitFor({ timeout: 15_000 });
  expect(await warnLine.first().textContent()).toMatch(/WARN \[events\] event image is not a JPEG or has a bad id; dropped/);
  await audit(page, 'system');

  // Level filter: warn and above only.
  await page.getByLabel('Level').selectOption('warn');
  await expect.poll(async () => (await log.locator('.l .lvl').allTextContents()).length, { timeout: 10_000 }).toBeGreaterThan(0);
  expect(new Set(await log.locator('.l .lvl').allTextContents())).toEqual(new Set(['WARN']));

  // Paused: a new warning does not appear until resumed (by keyboard).
  const pause = page.getByRole('button', { name: 'Pause' });
  await pause.focus();
  await page.keyboard.press('Enter');
  expect(await page.getByRole('button', { name: 'Resume' }).getAttribute('aria-pressed')).toBe('true');
  const count = await warnLine.count();
  await provokeWarning();
  await page.waitForTimeout(4_500);
  expect(await warnLine.count()).toBe(count);
  await page.getByRole('button', { name: 'Resume' }).click();
  await expect.poll(() => warnLine.count(), { timeout: 10_000 }).toBe(count + 1);

  await ctx.close();
  expect(problems).toEqual([]);
}, 180_000);

it('shows the System page on a phone in the dark theme, to an admin and to a viewer', async () => {
  const { ctx, page } = await watchedPage(browser, { width: 390, height: 844 }, problems, expectedStatus);
  await page.emulateMedia({ colorScheme: 'dark' });
  await signIn(page, '/system', 'System');
  await page.locator('tr[data-camera="porch"]').waitFor({ timeout: 15_000 });
  await expect.poll(async () => Number(await page.locator('#chart-cpu figure').getAttribute('data-points')), { timeout: 20_000 }).toBeGreaterThanOrEqual(2);
  await page.getByRole('log', { name: 'Hub log lines' }).locator('.l').first().waitFor({ timeout: 15_000 });
  await audit(page, 'system-dark');
  await ctx.close();

  // A viewer granted the camera: the camera and the charts, no components and no log.
  expect((await api(h.baseUrl, 'POST', '/api/users', { username: 'vera', password: 'vera-password-1', role: 'viewer', cameras: ['porch'] })).status).toBe(201);
  const viewer = await watchedPage(browser, { width: 390, height: 844 }, problems, expectedStatus);
  await viewer.page.emulateMedia({ colorScheme: 'dark' });
  await viewer.page.goto(`${h.baseUrl}/system`);
  await viewer.page.getByLabel('Username').fill('vera');
  await viewer.page.getByLabel('Password').fill('vera-password-1');
  await viewer.page.getByRole('button', { name: 'Sign in' }).click();
  await viewer.page.getByRole('heading', { name: 'System', level: 1 }).waitFor({ timeout: 30_000 });
  await expect.poll(() => viewer.page.locator('tr[data-camera="porch"] [data-badge="availability"]').textContent(), { timeout: 15_000 }).toBe('online');
  await expect.poll(async () => Number(await viewer.page.locator('#chart-memory figure').getAttribute('data-points')), { timeout: 20_000 }).toBeGreaterThanOrEqual(2);
  expect(await viewer.page.locator('#components').count()).toBe(0);
  expect(await viewer.page.getByRole('log').count()).toBe(0);
  expect(await viewer.page.getByText('Hub process', { exact: true }).count()).toBe(0);
  await audit(viewer.page, 'system-viewer-dark');
  await viewer.ctx.close();
  expect(problems).toEqual([]);
}, 180_000);

it('changes retention and Home Assistant from the Settings page: file, API and MQTT follow', async () => {
  const { ctx, page } = await watchedPage(browser, { width: 1280, height: 800 }, problems, expectedStatus);
  await signIn(page, '/settings', 'Settings');
  await page.getByRole('group', { name: 'Retention' }).waitFor();

  // The env-locked field: disabled, with the variable named.
  const prefix = page.getByLabel('Topic prefix');
  expect(await prefix.isDisabled()).toBe(true);
  expect(await prefix.inputValue()).toBe('vigil');
  await expect.poll(() => page.locator('#s-mqtt-prefix-lock').textContent()).toContain('VIGIL_MQTT__PREFIX');
  // The restart note sits on the MQTT fieldset.
  expect(await page.getByRole('group', { name: 'MQTT' }).locator('.note').textContent()).toMatch(/after the hub restarts/);
  expect(await page.getByLabel('Keep event clips (days)').inputValue()).toBe('30');
  expect((await page.locator('#restart-notice').textContent())?.trim()).toBe('');
  await audit(page, 'settings');

  // An ha device, to see Home Assistant's configs once discovery is on under the new prefix.
  const dev = (await api(h.baseUrl, 'POST', '/api/devices', { id: 'ha-ui', kind: 'ha' })).body as { username: string; password: string };

  await page.getByLabel('Keep event clips (days)').fill('9');
  await page.getByLabel('Publish Home Assistant discovery').check();
  await page.getByLabel('Discovery prefix').fill('ha_ui');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect.poll(() => page.locator('#settings-message').textContent(), { timeout: 15_000 }).toBe('Saved and applied.');

  const text = readFileSync(file, 'utf8');
  expect(text).toContain('# Vigil configuration for the web UI test');
  expect(text).toContain('# keep event clips a month');
  expect(text).toMatch(/clip_retain_days: 9/);
  expect(text).toMatch(/homeassistant:\n {2}enabled: true\n {2}discovery_prefix: ha_ui/);
  const s = (await api(h.baseUrl, 'GET', '/api/settings')).body.settings;
  expect(s['recordings.clip_retain_days']).toMatchObject({ value: 9, source: 'file' });
  expect(s['homeassistant.discovery_prefix']).toMatchObject({ value: 'ha_ui', source: 'file' });
  expect(s['homeassistant.enabled']).toMatchObject({ value: true, source: 'file' });
  const rec = await MqttRecorder.connect(h.mqttUrl, ['ha_ui/#'], dev);
  const cfg = await rec.waitFor((m) => /^ha_ui\/[a-z_]+\/vigil\/[^/]+\/config$/.test(m.topic) && m.payload.includes('porch'), 15_000, 'a Home Assistant config of the camera under ha_ui');
  expect(cfg.retain).toBe(true);
  await rec.close();
  // The page shows the saved values.
  expect(await page.getByLabel('Keep event clips (days)').inputValue()).toBe('9');
  expect(await page.getByLabel('Discovery prefix').inputValue()).toBe('ha_ui');

  // A value the hub refuses: its message at its field, focused; nothing written.
  expectedStatus.add(`400 ${h.baseUrl}/api/settings`);
  await page.getByLabel('Keep event clips (days)').fill('-3');
  await page.getByRole('button', { name: 'Save settings' }).click();
  const fieldError = page.locator('#s-recordings-clip_retain_days-error');
  await fieldError.waitFor({ timeout: 10_000 });
  expect(await fieldError.textContent()).toMatch(/^Too small: .*>=0$/);
  expect(await page.getByLabel('Keep event clips (days)').getAttribute('aria-invalid')).toBe('true');
  expect(await page.evaluate(() => document.querySelector('vigil-app')?.shadowRoot?.querySelector('vigil-settings')?.shadowRoot?.activeElement?.id)).toBe('s-recordings-clip_retain_days');
  expect(readFileSync(file, 'utf8')).toMatch(/clip_retain_days: 9/);
  await audit(page, 'settings-error');

  // An MQTT change: saved for the next start, with the notice.
  await page.getByLabel('Keep event clips (days)').fill('9');
  await page.getByLabel('Broker user name').fill('vigil-hub');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect.poll(() => page.locator('#settings-message').textContent(), { timeout: 15_000 }).toBe('Saved. Broker user name: after a restart of the hub.');
  expect(await page.locator('#restart-notice').textContent()).toMatch(/Waiting for a restart of the hub:\s*Broker user name/);
  expect(await page.locator('#s-mqtt-username-pending').textContent()).toBe('After a restart: vigil-hub.');
  expect((await api(h.baseUrl, 'GET', '/api/settings')).body.settings['mqtt.username']).toMatchObject({ value: null, pending: 'vigil-hub' });
  expect(readFileSync(file, 'utf8')).toMatch(/mqtt:\n {2}port: 0\n {2}host: 127.0.0.1\n {2}username: vigil-hub/);
  const act = (await api(h.baseUrl, 'GET', '/api/activity?action=settings.update')).body;
  expect(act.map((a: { details: { settings: Record<string, unknown> } }) => Object.keys(a.details.settings).sort())).toEqual([
    ['mqtt.username'], ['homeassistant.discovery_prefix', 'homeassistant.enabled', 'recordings.clip_retain_days'],
  ]);
  await ctx.close();

  // The phone size, dark theme (the desktop ones above are light).
  const phone = await watchedPage(browser, { width: 390, height: 844 }, problems, expectedStatus);
  await phone.page.emulateMedia({ colorScheme: 'dark' });
  await signIn(phone.page, '/settings', 'Settings');
  await phone.page.getByRole('group', { name: 'Home Assistant' }).waitFor();
  expect(await phone.page.getByLabel('Discovery prefix').inputValue()).toBe('ha_ui');
  await audit(phone.page, 'settings-dark');
  await phone.ctx.close();
  expect(problems).toEqual([]);
}, 180_000);
