import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { AxeBuilder } from '@axe-core/playwright';
import { type Browser, chromium, type Page } from 'playwright-core';

/** The built UI the gateway serves; the tests need `npm run build` first, as the cluster tests do. */
export const UI_DIST = fileURLToPath(new URL('../dist', import.meta.url));
export const SCREENSHOTS = fileURLToPath(new URL('../test-results', import.meta.url));

export function requireBuiltUi(): void {
  if (!existsSync(`${UI_DIST}/index.html`))
    throw new Error(`The web UI is not built (${UI_DIST}/index.html missing): run \`npm run build\` first.`);
}

/** Debian's Chromium, headless, with nothing that reaches the network (ENVIRONMENT.md); never a download. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Saves a full-page screenshot as `test-results/<name>.png` (a test artifact, gitignored). */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: `${SCREENSHOTS}/${name}.png`, fullPage: true });
}

/** Bytes of the JavaScript `index.html` loads up front, raw and gzipped (goal G14); lazy chunks excluded. */
export function initialJavaScriptSize(): { files: string[]; raw: number; gzip: number } {
  const html = readFileSync(`${UI_DIST}/index.html`, 'utf8');
  const files = [...html.matchAll(/(?:src|href)="\.\/(assets\/[^"]+\.js)"/g)].map((match) => match[1]!);
  let raw = 0;
  let gzip = 0;
  for (const file of files) {
    const bytes = readFileSync(`${UI_DIST}/${file}`);
    raw += bytes.length;
    gzip += gzipSync(bytes, { level: 9 }).length;
  }
  return { files, raw, gzip };
}

/** Frame times (ms) recorded by a requestAnimationFrame probe while `action` runs (goal G1's method). */
export async function frameTimes(page: Page, action: () => Promise<void>): Promise<number[]> {
  await page.evaluate(`(() => {
    const frames = (window.__mastFrames = []);
    let last = performance.now();
    const tick = (now) => { frames.push(now - last); last = now; if (window.__mastFrames === frames) requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
  })()`);
  await action();
  return page.evaluate(
    `(() => { const frames = window.__mastFrames; window.__mastFrames = null; return frames.slice(1); })()`,
  );
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/**
 * axe-core's serious and critical WCAG 2.0/2.1 A and AA violations on the page as it is now (ui.md
 * goal G15), each as `rule id at CSS target`; empty when there is none.
 */
export async function seriousAxeViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
    .analyze();
  return results.violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation) => `${violation.id} at ${violation.nodes[0]?.target.join(' ')}`);
}
