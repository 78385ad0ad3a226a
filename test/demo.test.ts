/**
 * The main command's promise: with no camera configured the hub runs the demo camera
 * on real footage, person and car events appear within a minute, and the status page at `/status`
 * (in real Chromium) shows the camera with a live snapshot and the latest events.
 */
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ADMIN_PASSWORD, api, startTestHub, type TestHub } from './helpers/hub.ts';

let h: TestHub;
let browser: Browser | undefined;

beforeAll(async () => {
  h = await startTestHub({ demo: { mode: 'auto' } });
});
afterAll(async () => {
  await browser?.close();
  await h?.stop();
});

it('runs the demo camera: person and car events within a minute, shown on the page', async () => {
  const t0 = Date.now();
  const cams = await api(h.baseUrl, 'GET', '/api/cameras');
  expect(cams.body.map((c: { name: string }) => c.name)).toEqual(['demo']);
  for (const label of ['person', 'car']) {
    await expect.poll(async () => (await api(h.baseUrl, 'GET', `/api/events?label=${label}&limit=1`)).body.length, { timeout: 60_000 - (Date.now() - t0), interval: 1000 }).toBeGreaterThan(0);
  }
  expect(Date.now() - t0).toBeLessThan(60_000);

  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
  const page = await browser.newPage();
  await page.goto(`${h.baseUrl}/status`);
  // Log in through the page's form (cookie session, CSRF cookie for later writes).
  await page.locator('#login input[name=username]').fill('admin');
  await page.locator('#login input[name=password]').fill(ADMIN_PASSWORD);
  await page.locator('#login button').click();
  await page.waitForFunction(() => {
    const img = document.querySelector<HTMLImageElement>('.cam img');
    return !!img && img.complete && img.naturalWidth > 0;
  }, undefined, { timeout: 20_000 });
  expect(await page.locator('.cam b').first().textContent()).toBe('demo');
  expect(await page.locator('.cam .online').count()).toBe(1);
  await page.waitForFunction(() => document.querySelectorAll('#events tr').length > 0, undefined, { timeout: 10_000 });
  const labels = await page.locator('#events tr td:nth-child(3)').allTextContents();
  expect(labels).toContain('person');
  expect(await page.locator('#sys').textContent()).toMatch(/^v\d+\.\d+\.\d+ · up \d+ s$/);
  if (process.env.VIGIL_SCREENSHOT) await page.screenshot({ path: process.env.VIGIL_SCREENSHOT });
  const cookies = await page.context().cookies();
  expect(cookies.find((c) => c.name === 'vigil_session')).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
  // Logging out revokes the session: the page falls back to the login form.
  await page.locator('#logout').click();
  await page.waitForSelector('#login:not([hidden])', { timeout: 10_000 });
}, 120_000);
