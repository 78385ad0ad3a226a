/**
 * The web UI's camera connection test, ONVIF discovery and PTZ (www/src/pages/cameras-probe.ts,
 * cameras-onvif.ts, camera-ptz.ts) in Debian's Chromium through playwright-core against a
 * real hub, the RTSP test camera and the ONVIF test device — all in a private network
 * namespace when the machine allows (test/helpers/onvif-ui-stack.ts), so that WS-Discovery
 * finds the device and nothing else:
 *
 * - "Test connection" on the detect URL shows H.264 at 768×576 and 10 fps for the RTSP test
 *   camera (as `POST /api/cameras/probe` says); a bad URL's error and a refused port's show
 *   at the field (`aria-invalid`, described by the message).
 * - The ONVIF dialog: "Search the network" lists the device; a wrong password shows at the
 *   password field; the right one shows the device and its profiles; "Add this camera"
 *   creates it (REST shows its `onvif` block) and it appears in the list.
 * - The camera's page shows PTZ controls: press and release "Pan left" → the device gets
 *   ContinuousMove (x −0.5) then Stop; arrow keys and Space work the same; a preset →
 *   GotoPreset; a refusal from the hub (PTZ switched off in the config) shows as an alert.
 *
 * axe-core (no serious or critical violation) and screenshots at 1280×800 and 390×844 of the
 * add form, the ONVIF dialog and the camera page with PTZ (also in the light theme); no
 * console error.
 */
import { mkdirSync } from 'node:fs';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureWwwBuilt } from '../www/build.ts';
import { ADMIN_PASSWORD } from './helpers/hub.ts';
import { startOnvifUiStack, type OnvifUiStack } from './helpers/onvif-ui-stack.ts';
import { audit, SHOTS, watchedPage } from './helpers/page-audit.ts';

let s: OnvifUiStack;
let browser: Browser;
const problems: string[] = [];
const expectedStatus = new Set<string>();
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 800 };

interface PtzCall { operation: string; profileToken: string; preset?: string; velocity?: Record<string, number> }

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  await ensureWwwBuilt();
  s = await startOnvifUiStack();
  if (!s.netns) console.log(`ONVIF UI test without a network namespace (${s.netnsReason}): the device address is typed in instead of discovered`);
  browser = await s.launchBrowser();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await s?.stop();
});

async function signIn(page: Page, path: string): Promise<void> {
  await page.goto(`${s.baseUrl}${path}`);
  await page.getByLabel('Username').fill('admin');
  await page.getByLabel('Password').fill(ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** The id of the focused element, through shadow roots. */
function deepFocus(page: Page): Promise<string | undefined> {
  return page.evaluate(() => {
    let a: Element | null = document.activeElement;
    while (a?.shadowRoot?.activeElement) a = a.shadowRoot.activeElement;
    return a?.id;
  });
}

/** A signed-in page in a fresh context, in the dark or light theme. */
async function themed(viewport: { width: number; height: number }, scheme: 'dark' | 'light', path: string) {
  const w = await watchedPage(browser, viewport, problems, expectedStatus);
  await w.page.emulateMedia({ colorScheme: scheme });
  await signIn(w.page, path);
  return w;
}

/** The ids an element's aria-describedby names. */
async function describedBy(l: Locator): Promise<string[]> {
  return ((await l.getAttribute('aria-describedby')) ?? '').split(/\s+/).filter(Boolean);
}

const ptzCalls = () => s.request<PtzCall[]>({ op: 'ptz' });

describe('the Add camera form: Test connection', () => {
  it('shows codec, resolution and fps of the RTSP test camera, and a bad URL’s error at the field', async () => {
    const { ctx, page } = await themed(DESKTOP, 'dark', '/cameras');
    await page.getByRole('heading', { name: 'Cameras', level: 1 }).waitFor();

    const detect = page.getByLabel('Detect stream URL');
    await detect.fill(s.rtspMain);
    await page.getByRole('button', { name: 'Test connection (detect stream)' }).click();
    const status = page.locator('#f-detect-probe');
    expect(await status.getAttribute('role')).toBe('status');
    await expect.poll(() => status.getAttribute('data-probe'), { timeout: 30_000 }).toBe('ok');
    const shown = (await status.textContent())!;
    expect(shown).toMatch(/H264/);
    expect(shown).toMatch(/768×576/);
    expect(shown).toMatch(/10 fps/);
    // The same as the hub's answer.
    const rest = await s.api('POST', '/api/cameras/probe', { url: s.rtspMain });
    expect(rest.status).toBe(200);
    expect(rest.body.streams[0]).toMatchObject({ codec: 'h264', width: 768, height: 576, fps: 10 });
    expect(await detect.getAttribute('aria-invalid')).toBe('false');
    await audit(page, 'cameras-probe');

    // Changing the URL clears the result.
    await detect.fill('http://example.com/stream');
    expect(await status.getAttribute('data-probe')).toBe('');
    // A URL the hub refuses: its message at the field.
    expectedStatus.add(`400 ${s.baseUrl}/api/cameras/probe`);
    await page.getByRole('button', { name: 'Test connection (detect stream)' }).click();
    const error = page.locator('#f-detect-probe-error');
    await error.waitFor();
    expect(await error.textContent()).toMatch(/only rtsp:\/\/, rtsps:\/\/ and file:\/\//);
    expect(await error.getAttribute('role')).toBe('alert');
    expect(await detect.getAttribute('aria-invalid')).toBe('true');
    expect(await describedBy(detect)).toContain('f-detect-probe-error');

    // A port where nothing listens: ffprobe's message, at the record URL field.
    const record = page.getByLabel('Record stream URL (optional)');
    await record.fill('rtsp://127.0.0.1:9/nothing');
    await page.getByRole('button', { name: 'Test connection (record stream)' }).click();
    const recError = page.locator('#f-record-probe-error');
    await recError.waitFor({ timeout: 15_000 });
    expect(await recError.textContent()).toMatch(/refused/i);
    expect(await record.getAttribute('aria-invalid')).toBe('true');
    // An empty field: said at once, without asking the hub.
    await page.getByRole('button', { name: 'Test connection (live stream)' }).click();
    expect(await page.locator('#f-live-probe-error').textContent()).toBe('Enter the live stream URL first.');
    expect(await page.getByLabel('Live stream URL (optional)').getAttribute('aria-invalid')).toBe('true');
    await audit(page, 'cameras-probe-error');
    // Nothing was created.
    expect((await s.api('GET', '/api/cameras')).body).toEqual([]);
    await ctx.close();

    // The phone size, light theme.
    const phone = await themed(PHONE, 'light', '/cameras');
    await phone.page.getByLabel('Detect stream URL').fill(s.rtspSub);
    await phone.page.getByRole('button', { name: 'Test connection (detect stream)' }).click();
    await expect.poll(() => phone.page.locator('#f-detect-probe').textContent(), { timeout: 30_000 }).toMatch(/H264.*384×288 at 10 fps/);
    await audit(phone.page, 'cameras-probe-light');
    await phone.ctx.close();
    expect(problems).toEqual([]);
  }, 180_000);
});

describe('ONVIF discovery and PTZ', () => {
  it('finds the device, logs in, adds it, and moves it from the camera page', async () => {
    const { ctx, page } = await themed(DESKTOP, 'dark', '/cameras');
    await page.getByRole('heading', { name: 'Cameras', level: 1 }).waitFor();

    await page.getByRole('button', { name: 'ONVIF discovery…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add an ONVIF camera' });
    await dialog.waitFor();
    // Focus moves into the dialog.
    await expect.poll(() => deepFocus(page)).toBe('onvif-step-find');

    if (s.netns) {
      await dialog.getByRole('button', { name: 'Search the network' }).click();
      await expect.poll(() => dialog.locator('#onvif-status').textContent(), { timeout: 15_000 }).toBe('Found 1 device.');
      const item = dialog.locator('#onvif-devices li');
      expect(await item.count()).toBe(1);
      expect(await item.locator('[data-field]').allTextContents()).toEqual([s.deviceName, 'VirtualCam-PTZ', 'porch', '127.0.0.1']);
      await audit(page, 'cameras-onvif-found');
      await dialog.getByRole('button', { name: `Choose ${s.deviceName} at 127.0.0.1` }).click();
    } else {
      await dialog.getByLabel('Or the device address').fill(s.deviceUrl);
      await dialog.getByRole('button', { name: 'Use this address' }).click();
    }

    // A wrong password: the device's refusal at the password field.
    await dialog.getByRole('heading', { name: /^Log in to/ }).waitFor();
    expect(await dialog.getByLabel('Device username').inputValue()).toBe('admin');
    await dialog.getByLabel('Device password').fill('wrong');
    expectedStatus.add(`400 ${s.baseUrl}/api/onvif/probe`);
    await dialog.getByRole('button', { name: 'Connect' }).click();
    await dialog.locator('#onvif-password-error').waitFor({ timeout: 15_000 });
    expect(await dialog.locator('#onvif-password-error').textContent()).toMatch(/refused the login/);
    expect(await dialog.getByLabel('Device password').getAttribute('aria-invalid')).toBe('true');
    await audit(page, 'cameras-onvif-login-error');

    await dialog.getByLabel('Device password').fill('secret');
    await dialog.getByRole('button', { name: 'Connect' }).click();
    await dialog.getByRole('heading', { name: 'Vigil VirtualCam-PTZ' }).waitFor({ timeout: 15_000 });
    expect(await dialog.locator('#onvif-status').textContent()).toBe('Connected to Vigil VirtualCam-PTZ: 2 profiles.');
    const profiles = dialog.locator('#onvif-profiles tbody tr');
    expect(await profiles.nth(0).locator('td').allTextContents()).toEqual([expect.any(String), 'H264', '768×576', '10', 'yes', 'record, live']);
    expect(await profiles.nth(1).locator('td').allTextContents()).toEqual([expect.any(String), 'H264', '384×288', '10', 'no', 'detect']);
    expect(await dialog.locator('#onvif-device').textContent()).toMatch(/events, PTZ, 2 relays/);
    await audit(page, 'cameras-onvif-device');

    await dialog.getByLabel('Camera name').fill('porch');
    await dialog.getByRole('button', { name: 'Add this camera' }).click();
    await expect.poll(() => page.locator('#cameras-message').textContent(), { timeout: 15_000 }).toBe('Camera porch added.');
    expect(await dialog.isVisible()).toBe(false);
    await page.locator('tr[data-camera="porch"]').waitFor();
    const cam = await s.api('GET', '/api/cameras/porch');
    expect(cam.status).toBe(200);
    expect(cam.body).toMatchObject({ has_credentials: true, onvif: { url: s.deviceUrl, ptz: true }, paths: { record: s.rtspMain, live: s.rtspMain, detect: s.rtspSub } });
    await ctx.close();

    // The phone size of the dialog (light theme).
    const phone = await themed(PHONE, 'light', '/cameras');
    await phone.page.getByRole('button', { name: 'ONVIF discovery…' }).click();
    const small = phone.page.getByRole('dialog', { name: 'Add an ONVIF camera' });
    if (s.netns) {
      await small.getByRole('button', { name: 'Search the network' }).click();
      await expect.poll(() => small.locator('#onvif-status').textContent(), { timeout: 15_000 }).toBe('Found 1 device.');
    }
    await audit(phone.page, 'cameras-onvif-dialog');
    await small.getByRole('button', { name: 'Close' }).click();
    expect(await small.isVisible()).toBe(false);
    expect(await deepFocus(phone.page)).toBe('onvif-open'); // focus back on the button that opened it
    await phone.ctx.close();

    // ---- the camera's page: PTZ ---------------------------------------------------------------
    // Wait for the link to know the device's PTZ and presets, and for a first frame (the live view polls latest.jpg without MSE).
    await expect.poll(async () => (await s.api('GET', '/api/system')).body.components?.onvif?.cameras?.porch?.ptz, { timeout: 30_000 }).toBe(true);
    expect((await s.api('GET', '/api/system')).body.components.onvif.cameras.porch.presets).toEqual(['home', 'door']);
    await expect.poll(async () => (await s.api('GET', '/api/cameras/porch/latest.jpg')).status, { timeout: 30_000, interval: 500 }).toBe(200);

    const desk = await themed(DESKTOP, 'dark', '/cameras/porch');
    const p = desk.page;
    await p.getByRole('heading', { name: /^Camera porch/, level: 1 }).waitFor();
    await p.getByRole('heading', { name: 'Pan, tilt and zoom' }).waitFor({ timeout: 15_000 });
    await expect.poll(() => p.locator('#availability').textContent(), { timeout: 20_000 }).toBe('online');

    // Press and hold "Pan left" with the mouse: ContinuousMove while held, Stop on release.
    let n = (await ptzCalls()).length;
    const left = p.getByRole('button', { name: 'Pan left' });
    await left.hover();
    await p.mouse.down();
    await expect.poll(async () => (await ptzCalls()).length, { timeout: 10_000 }).toBe(n + 1);
    expect(await left.getAttribute('aria-pressed')).toBe('true');
    await expect.poll(() => p.locator('#ptz-status').textContent()).toBe('Panning left…');
    await p.mouse.up();
    await expect.poll(async () => (await ptzCalls()).length, { timeout: 10_000 }).toBe(n + 2);
    expect((await ptzCalls()).slice(n)).toEqual([
      { operation: 'ContinuousMove', profileToken: 'main', velocity: { x: -0.5, y: 0 } },
      { operation: 'Stop', profileToken: 'main' },
    ]);
    await expect.poll(() => p.locator('#ptz-status').textContent()).toBe('Stopped.');
    expect(await left.getAttribute('aria-pressed')).toBe('false');

    // Keyboard: an arrow key held while a pad button has focus, then Space held on "Zoom in".
    n = (await ptzCalls()).length;
    await left.focus();
    await p.keyboard.down('ArrowUp');
    await expect.poll(async () => (await ptzCalls()).length, { timeout: 10_000 }).toBe(n + 1);
    await p.keyboard.up('ArrowUp');
    await expect.poll(async () => (await ptzCalls()).length, { timeout: 10_000 }).toBe(n + 2);
    await p.getByRole('button', { name: 'Zoom in' }).focus();
    await p.keyboard.down('Space');
    await expect.poll(async () => (await ptzCalls()).length, { timeout: 10_000 }).toBe(n + 3);
    await p.keyboard.up('Space');
    await expect.poll(async () => (await ptzCalls()).length, { timeout: 10_000 }).toBe(n + 4);
    expect((await ptzCalls()).slice(n).map((c) => [c.operation, c.velocity])).toEqual([
      ['ContinuousMove', { x: 0, y: 0.5 }], ['Stop', undefined], ['ContinuousMove', { zoom: 0.5 }], ['Stop', undefined],
    ]);
    await audit(p, 'camera-ptz');

    // A preset: select and Go.
    n = (await ptzCalls()).length;
    await p.getByLabel('Preset').selectOption('door');
    await p.getByRole('button', { name: 'Go' }).click();
    await expect.poll(async () => (await ptzCalls()).length, { timeout: 10_000 }).toBe(n + 1);
    expect((await ptzCalls()).at(-1)).toEqual({ operation: 'GotoPreset', profileToken: 'main', preset: 'door' });
    expect(await p.locator('#ptz-status').textContent()).toBe('Going to preset door.');

    // PTZ switched off in the camera's config: the hub refuses, the page shows why.
    expect((await s.api('PATCH', '/api/cameras/porch', { onvif: { ptz: false } })).status).toBe(200);
    await expect.poll(async () => (await s.api('GET', '/api/system')).body.components?.onvif?.cameras?.porch?.ptz_enabled, { timeout: 15_000 }).toBe(false);
    n = (await ptzCalls()).length;
    await p.getByRole('button', { name: 'Pan right' }).hover();
    await p.mouse.down();
    await p.mouse.up();
    const alert = p.locator('#ptz-error');
    await expect.poll(() => alert.textContent(), { timeout: 10_000 }).toMatch(/The camera refused: .*PTZ is off/);
    expect(await alert.getAttribute('role')).toBe('alert');
    expect((await ptzCalls()).length).toBe(n);
    expect((await s.api('PATCH', '/api/cameras/porch', { onvif: { ptz: true } })).status).toBe(200);
    await desk.ctx.close();

    // The camera page at phone size, light theme.
    const ph = await themed(PHONE, 'light', '/cameras/porch');
    await ph.page.getByRole('heading', { name: 'Pan, tilt and zoom' }).waitFor({ timeout: 15_000 });
    await audit(ph.page, 'camera-ptz-light');
    await ph.ctx.close();

    expect(problems).toEqual([]);
  }, 300_000);

  it('shows no PTZ controls to a viewer, nor when the camera’s PTZ is off', async () => {
    const viewer = await s.api('POST', '/api/users', { username: 'vic', password: 'viewer-password-long', role: 'viewer' });
    expect(viewer.status).toBe(201);

    const { ctx, page } = await watchedPage(browser, DESKTOP, problems, expectedStatus);
    await page.goto(`${s.baseUrl}/cameras/porch`);
    await page.getByLabel('Username').fill('vic');
    await page.getByLabel('Password').fill('viewer-password-long');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: /^Camera porch/, level: 1 }).waitFor();
    await expect.poll(() => page.locator('vigil-camera-ptz').getAttribute('data-ptz'), { timeout: 10_000 }).toBe('off');
    expect(await page.getByRole('button', { name: 'Pan left' }).count()).toBe(0);
    await ctx.close();

    // An admin, on the same camera with onvif.ptz off: no controls either; on again: back.
    expect((await s.api('PATCH', '/api/cameras/porch', { onvif: { ptz: false } })).status).toBe(200);
    const admin = await watchedPage(browser, DESKTOP, problems, expectedStatus);
    await signIn(admin.page, '/cameras/porch');
    await admin.page.getByRole('heading', { name: /^Camera porch/, level: 1 }).waitFor();
    const ptz = admin.page.locator('vigil-camera-ptz');
    await expect.poll(() => ptz.getAttribute('data-ptz'), { timeout: 10_000 }).toBe('off');
    expect(await admin.page.getByRole('heading', { name: 'Pan, tilt and zoom' }).count()).toBe(0);
    expect((await s.api('PATCH', '/api/cameras/porch', { onvif: { ptz: true } })).status).toBe(200);
    await admin.page.reload();
    await expect.poll(() => ptz.getAttribute('data-ptz'), { timeout: 30_000 }).toBe('on');
    await admin.page.getByRole('button', { name: 'Pan left' }).waitFor();
    await admin.ctx.close();
    expect(problems).toEqual([]);
  }, 120_000);
});
