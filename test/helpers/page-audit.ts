/**
 * What every web UI test checks on each page: an axe-core scan (injected from the npm
 * package, never downloaded) with no `serious` or `critical` violation, then a full-page
 * screenshot under {@link SHOTS} named `<name>-<width>x<height>.png` (test artifacts).
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { expect } from 'vitest';

/** axe-core's browser build. */
export const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
/** Where screenshots go (gitignored). */
export const SHOTS = 'test-artifacts/web-ui';

/** axe-core on the page as it is now: no serious or critical violation; then a screenshot. */
export async function audit(page: Page, name: string): Promise<void> {
  await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async () => {
    const r = await (window as unknown as { axe: { run: (c: Document, o: object) => Promise<{ violations: { id: string; impact: string; nodes: { target: unknown }[] }[] }> } })
      .axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.map((n) => JSON.stringify(n.target)).slice(0, 3) }));
  });
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(bad, `${name}: ${JSON.stringify(bad)}`).toEqual([]);
  const size = page.viewportSize()!;
  await page.screenshot({ path: join(SHOTS, `${name}-${size.width}x${size.height}.png`), fullPage: true });
}

/**
 * A page in a fresh context whose page errors and console errors go to `problems` — except a
 * failed request the test provokes on purpose, listed in `expectedStatus` as `<status> <url>`.
 * `bypassCSP`: axe-core is injected as an inline script, which the hub's CSP (script-src 'self') rightly refuses.
 */
export async function watchedPage(browser: Browser, viewport: { width: number; height: number }, problems: string[], expectedStatus: Set<string>): Promise<{ ctx: BrowserContext; page: Page }> {
  const ctx = await browser.newContext({ viewport, bypassCSP: true });
  const page = await ctx.newPage();
  page.on('pageerror', (e) => problems.push(`pageerror ${page.url()}: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const status = /status of (\d+)/.exec(m.text())?.[1];
    if (status && expectedStatus.has(`${status} ${m.location().url}`)) return;
    problems.push(`console ${page.url()}: ${m.text()} (${m.location().url})`);
  });
  return { ctx, page };
}
