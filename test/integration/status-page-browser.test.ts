/**
 * The status page in a real browser: Debian's Chromium driven by
 * playwright-core (engine/dev/servers/chromium.ts). A `sluice run` of a
 * generator job with two kinds of dead letters serves the page; the test
 * waits for the live numbers to change, checks the graph (nodes, edges, a
 * rate on each edge), waits for a dead letter to appear with its value cut,
 * checks that the page asked nothing of any other origin, and saves a
 * screenshot (to docs/status-page.png with SLUICE_UPDATE_SCREENSHOTS=1,
 * else to a temp directory).
 */
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumLaunchOptions, installChromium } from '../../engine/dev/servers/chromium.ts';
import { startSluice, waitFor, type SluiceProcess } from '../helpers/sluice-process.ts';
import { tempDir } from '../helpers/temp.ts';

/** The page's DOM, as far as the functions evaluated in the browser use it (the project's types have no DOM lib). */
interface Text {
  textContent: string | null;
}
declare const document: { getElementById(id: string): Text | null; querySelectorAll(selector: string): Iterable<Text> };

const JOB = fileURLToPath(new URL('../fixtures/jobs/status-page-job.ts', import.meta.url));
const DOCS = fileURLToPath(new URL('../../docs/', import.meta.url));

describe('status page in Chromium', () => {
  let job: SluiceProcess;
  let base: string;
  let browser: BrowserContext;
  let page: Page;
  const requested: string[] = [];

  beforeAll(async () => {
    await installChromium({ log: (m) => console.log(m) });
    job = startSluice(['run', JOB, '--workers', '2', '--checkpoint-interval', '200', '--state-dir', tempDir(), '--output-dir', tempDir(), '--no-progress']);
    await waitFor('the status page address on stderr', () => /status page at http:\/\/127\.0\.0\.1:\d+\//.test(job.stderr()), 120_000);
    base = /status page at (http:\/\/127\.0\.0\.1:\d+)\//.exec(job.stderr())![1];
    browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'sluice-chromium-')), { ...chromiumLaunchOptions(), viewport: { width: 1400, height: 1000 } });
    page = browser.pages()[0] ?? (await browser.newPage());
    page.on('request', (r) => requested.push(r.url()));
    await page.goto(`${base}/`);
  });

  afterAll(async () => {
    await browser?.close();
    job?.child.kill('SIGTERM');
    await job?.exited;
  });

  it('updates the numbers live', async () => {
    await page.waitForFunction(() => document.getElementById('job')!.textContent === 'status-page', undefined, { timeout: 60_000 });
    const first = await page.locator('#total-in').textContent();
    await page.waitForFunction((before) => {
      const now = document.getElementById('total-in')!.textContent;
      return now !== before && now !== '–';
    }, first, { timeout: 60_000 });
    await page.waitForFunction(() => /^[1-9]/.test(document.getElementById('rate-in')!.textContent ?? ''), undefined, { timeout: 60_000 });
    expect(await page.locator('#state').textContent()).toBe('RUNNING');
  });

  it('draws the graph, with a rate on every edge', async () => {
    expect(await page.locator('#graph g.node').count()).toBe(6);
    expect(await page.locator('#graph path.edge').count()).toBe(5);
    expect(await page.locator('#graph g.node.source text').allTextContents()).toEqual(['ticks']);
    expect(await page.locator('#graph g.node.sink text').allTextContents()).toEqual(['all', 'counts']);
    await page.waitForFunction(() => [...document.querySelectorAll('#graph text.rate')].every((t) => /^[1-9][\d,.]*\/s/.test(t.textContent ?? '')), undefined, { timeout: 60_000 });
    // Partitions, each with its worker and a checkpoint.
    expect(await page.locator('#partitions tr').count()).toBe(3);
    expect(await page.locator('#partitions tr').nth(1).locator('td').nth(1).textContent()).toBe('local');
  });

  it('shows dead letters by reason and the latest ones, values cut', async () => {
    await page.waitForFunction(() => (document.getElementById('dlq-reasons')!.textContent ?? '').includes('seventy-eleven'), undefined, { timeout: 60_000 });
    expect(await page.locator('#dlq-reasons').textContent()).toContain('validation_failed');
    const cut = page.locator('#dlq-latest td.value', { hasText: 'xxxx' }).first();
    await cut.waitFor({ timeout: 60_000 });
    const text = (await cut.textContent())!;
    expect(text.endsWith('…')).toBe(true);
    expect(text.length).toBe(201);
  });

  it('loads nothing from any other origin, and saves a screenshot', async () => {
    expect(requested.length).toBeGreaterThan(2);
    for (const url of requested) expect(url.startsWith(`${base}/`), url).toBe(true);
    const file = process.env.SLUICE_UPDATE_SCREENSHOTS === '1' ? join(DOCS, 'status-page.png') : join(tempDir(), 'status-page.png');
    await page.screenshot({ path: file, fullPage: true });
    expect(statSync(file).size).toBeGreaterThan(10_000);
    console.log(`status page screenshot: ${file}`);
  });
});
