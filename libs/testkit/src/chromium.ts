import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** test-artifacts/ at the repository root (from libs/testkit/dist/src/); gitignored: screenshots kept by browser tests. */
const ARTIFACTS = new URL('../../../../test-artifacts/', import.meta.url).pathname;

/** Real headless Chromium with a fresh user-data dir; close() removes it. */
export async function launchChromium(): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'kvbench-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export type Chromium = Awaited<ReturnType<typeof launchChromium>>;

/**
 * Chromium with one page open at a desktop size (1400×900, so Swagger UI lays out as on a laptop),
 * its console errors collected from the start: a browser test closes `page`, then `chromium`.
 */
export async function launchChromiumPage(): Promise<{ chromium: Chromium; page: Page; errors: string[] }> {
  const chromium = await launchChromium();
  const page = await chromium.context.newPage();
  const errors = collectErrors(page);
  await page.setViewportSize({ width: 1400, height: 900 });
  return { chromium, page, errors };
}

/** Console errors and uncaught page errors, collected as they happen. */
export function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  return errors;
}

export function artifactPath(name: string): string {
  mkdirSync(ARTIFACTS, { recursive: true });
  return join(ARTIFACTS, name);
}
