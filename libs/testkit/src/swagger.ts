import type { Page } from 'playwright-core';

/**
 * Drives Swagger UI the way a person does: expand an operation, "Try it out", keep the example it
 * shows (or type a value where the person has their own id), "Execute", read the status it shows.
 * Selectors are Swagger UI 5's own class names (swagger-ui-dist, as @fastify/swagger-ui serves it).
 */

export interface Operation {
  method: string;
  path: string;
}

/** Every operation the page lists, in page order. */
export async function listOperations(page: Page): Promise<Operation[]> {
  await page.waitForSelector('.opblock', { timeout: 30_000 });
  return page.$$eval('.opblock', (blocks) =>
    blocks.map((b) => ({
      method: (b.querySelector('.opblock-summary-method')?.textContent ?? '').trim().toLowerCase(),
      path: (b.querySelector('.opblock-summary-path')?.getAttribute('data-path') ?? '').trim(),
    })),
  );
}

function block(page: Page, op: Operation) {
  return page.locator(`.opblock.opblock-${op.method}`).filter({ has: page.locator(`.opblock-summary-path[data-path="${op.path}"]`) });
}

export interface TryResult {
  status: number;
  /** The response body as Swagger UI shows it (truncated by Swagger UI for large bodies). */
  body: string;
  /** The request body the page sent (the example, unless the caller typed another). */
  requestBody: string | null;
}

/**
 * Try one operation. `fill` sets parameter inputs by name (a path id the person copied from an
 * earlier answer); parameters not named keep what Swagger UI prefilled (their examples).
 */
export async function tryOperation(page: Page, op: Operation, fill: Record<string, string> = {}): Promise<TryResult> {
  const b = block(page, op);
  if (!(await b.locator('.opblock-body').isVisible().catch(() => false))) await b.locator('.opblock-summary').first().click();
  const tryOut = b.locator('button.try-out__btn:not(.reset)').first();
  if ((await tryOut.textContent())?.trim() === 'Try it out') await tryOut.click();
  for (const [name, value] of Object.entries(fill)) {
    const input = b.locator(`tr[data-param-name="${name}"] input, tr[data-param-name="${name}"] select`).first();
    if ((await input.evaluate((e) => e.tagName)) === 'SELECT') await input.selectOption(value);
    else await input.fill(value);
  }
  const textarea = b.locator('.body-param textarea');
  const requestBody = (await textarea.count()) > 0 ? await textarea.inputValue() : null;
  // A previous execution's answer must not be read as this one's.
  const clear = b.locator('button.btn-clear');
  if ((await clear.count()) > 0 && (await clear.isVisible())) await clear.click();
  await b.locator('button.execute').click();
  const status = b.locator('.live-responses-table .response .response-col_status').first();
  await status.waitFor({ timeout: 30_000 });
  const code = Number((await status.textContent())?.trim().split(/\s/)[0]);
  const body = (await b.locator('.live-responses-table .response-col_description pre').first().textContent().catch(() => '')) ?? '';
  return { status: code, body, requestBody };
}

/** Swagger UI's Authorize dialog: enter a bearer token for every scheme it lists (or log out with null). */
export async function authorize(page: Page, token: string | null): Promise<void> {
  await page.locator('.auth-wrapper button.authorize').click();
  const dialog = page.locator('.dialog-ux .modal-ux');
  await dialog.waitFor();
  if (token === null) {
    for (const out of await dialog.locator('button.auth:has-text("Logout")').all()) await out.click();
  } else {
    for (const input of await dialog.locator('input[type="text"], input[type="password"]').all()) await input.fill(token);
    for (const btn of await dialog.locator('button.authorize:has-text("Authorize")').all()) await btn.click();
  }
  await dialog.locator('button.btn-done, button.close-modal').first().click();
}

/** The operations the document declares, from its JSON (to check the page lists all of them). */
export function documentedOperations(doc: { paths?: Record<string, Record<string, unknown>> }): Operation[] {
  const methods = ['get', 'put', 'post', 'delete', 'patch'];
  return Object.entries(doc.paths ?? {}).flatMap(([path, item]) => methods.filter((m) => item[m]).map((method) => ({ method, path })));
}
