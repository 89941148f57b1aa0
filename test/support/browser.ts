/**
 * Debian's Chromium driven by playwright-core for the console's end-to-end tests: the path
 * comes from CHROMIUM_PATH or /usr/bin/chromium. Without it the tests skip with a message, except
 * under CI=true, where a missing browser is a failure (CI installs it: see .ci/run).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const HAVE_CHROMIUM = existsSync(CHROMIUM);
export const MUST_RUN = process.env.CI === 'true';
export const SCREENSHOTS = fileURLToPath(new URL('../../test-results/console', import.meta.url));

export const LAPTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

if (!HAVE_CHROMIUM && !MUST_RUN) {
  console.warn(`[e2e] Chromium not found at ${CHROMIUM}: the console end-to-end tests are skipped. Install it (apt-get install chromium) or set CHROMIUM_PATH.`);
}

export async function launchChromium(): Promise<Browser> {
  if (!HAVE_CHROMIUM) throw new Error(`Chromium is required (CI=true) but was not found at ${CHROMIUM}: install it with apt-get install chromium, or set CHROMIUM_PATH.`);
  // --no-sandbox: CI containers run as root, where Chromium's sandbox cannot start.
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

/** Saves a full-page screenshot as test-results/console/<name>-<width>.png. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}-${page.viewportSize()?.width ?? 0}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

export interface A11yProblem {
  rule: string;
  element: string;
}

/**
 * A basic accessibility check run in the page: every form control has an accessible name (a
 * label, aria-label or aria-labelledby), every button and link has a name, ids are unique,
 * images have alt text, the page has one h1 and a lang, and nothing is focusable with a positive
 * tabindex (which breaks focus order), text meets WCAG AA contrast, and the page does not scroll
 * sideways. Returns the problems found.
 */
export async function accessibilityProblems(page: Page): Promise<A11yProblem[]> {
  // A string, not a function: the test transform may wrap functions in helpers the page lacks.
  return page.evaluate(A11Y_CHECK) as Promise<A11yProblem[]>;
}

const A11Y_CHECK = String.raw`(() => {
    const problems = [];
    const describe = (el) => el.outerHTML.slice(0, 160);
    const visible = (el) => {
      const style = getComputedStyle(el);
      return style.display !== 'none' && style.visibility !== 'hidden' && !el.closest('[hidden]');
    };
    const textOf = (id) => document.getElementById(id)?.textContent?.trim() ?? '';
    const nameOf = (el) => {
      const aria = el.getAttribute('aria-label')?.trim();
      if (aria) return aria;
      const by = el.getAttribute('aria-labelledby');
      if (by) return by.split(/\s+/).map(textOf).join(' ').trim();
      if (el instanceof HTMLInputElement || el instanceof HTMLSelectElement || el instanceof HTMLTextAreaElement) {
        const labels = Array.from(el.labels ?? []).map((l) => l.textContent?.trim() ?? '');
        if (labels.join('')) return labels.join(' ');
        return el.getAttribute('title')?.trim() ?? '';
      }
      return (el.textContent ?? '').trim() || el.getAttribute('title')?.trim() || '';
    };
    for (const el of Array.from(document.querySelectorAll('input:not([type=hidden]), select, textarea'))) {
      if (visible(el) && !nameOf(el)) problems.push({ rule: 'control has no label', element: describe(el) });
    }
    for (const el of Array.from(document.querySelectorAll('button, a[href], [role=button]'))) {
      if (visible(el) && !nameOf(el)) problems.push({ rule: 'button or link has no name', element: describe(el) });
    }
    const seen = new Map();
    for (const el of Array.from(document.querySelectorAll('[id]'))) seen.set(el.id, (seen.get(el.id) ?? 0) + 1);
    for (const [id, n] of seen) if (n > 1) problems.push({ rule: 'duplicate id', element: id });
    for (const el of Array.from(document.querySelectorAll('img'))) if (!el.hasAttribute('alt')) problems.push({ rule: 'image without alt', element: describe(el) });
    for (const el of Array.from(document.querySelectorAll('[tabindex]'))) if (Number(el.getAttribute('tabindex')) > 0) problems.push({ rule: 'positive tabindex', element: describe(el) });
    if (document.querySelectorAll('h1').length !== 1) problems.push({ rule: 'page needs exactly one h1', element: String(document.querySelectorAll('h1').length) });
    // Text contrast (WCAG AA): 4.5:1, or 3:1 for large text (24px, or 18.66px bold), against the
    // first opaque background behind it. Disabled controls are exempt, as WCAG says.
    const rgb = (c) => { const m = /rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?/.exec(c); return m ? [Number(m[1]), Number(m[2]), Number(m[3]), m[4] === undefined ? 1 : Number(m[4])] : null; };
    const lum = (c) => { const [r, g, b] = c.slice(0, 3).map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
    const backgroundOf = (el) => { for (let e = el; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor); if (c && c[3] >= 0.99) return c; } return [255, 255, 255, 1]; };
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const checked = new Set();
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement;
      if (!el || checked.has(el) || !n.textContent.trim() || !visible(el) || el.closest('.visually-hidden, [disabled], svg, option')) continue;
      checked.add(el);
      const style = getComputedStyle(el);
      const fg = rgb(style.color);
      if (!fg) continue;
      const bg = backgroundOf(el);
      const [l1, l2] = [lum(fg), lum(bg)].sort((a, b) => b - a);
      const ratio = (l1 + 0.05) / (l2 + 0.05);
      const size = parseFloat(style.fontSize);
      const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
      if (ratio < (large ? 3 : 4.5)) problems.push({ rule: 'low text contrast ' + ratio.toFixed(2) + ':1', element: describe(el) });
    }
    // Usable at the viewport's width: nothing makes the whole page scroll sideways.
    if (document.documentElement.scrollWidth > window.innerWidth + 1) problems.push({ rule: 'page scrolls horizontally', element: document.documentElement.scrollWidth + 'px > ' + window.innerWidth + 'px' });
    if (!document.documentElement.lang) problems.push({ rule: 'html has no lang', element: 'html' });
    for (const el of Array.from(document.querySelectorAll('[aria-describedby], [aria-labelledby]'))) {
      for (const attr of ['aria-describedby', 'aria-labelledby']) {
        for (const id of (el.getAttribute(attr) || '').split(/\s+/).filter(Boolean)) {
          if (!document.getElementById(id)) problems.push({ rule: attr + ' points at a missing id', element: describe(el) });
        }
      }
    }
    return problems;
})()`;
