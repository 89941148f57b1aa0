/**
 * Makes sure dist/console holds a build of the current console sources before a browser test
 * loads it: builds with Vite (in this process, a few seconds) only when the build is missing or
 * older than a source file. Test files running in parallel share one build through a lock
 * directory.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SOURCES = join(ROOT, 'console');
const BUILT = join(ROOT, 'dist', 'console', 'index.html');
const LOCK = join(ROOT, 'dist', '.console-build.lock');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function fresh(): boolean {
  return existsSync(BUILT) && statSync(BUILT).mtimeMs >= newestSource(SOURCES);
}

export async function ensureConsoleBuilt(timeoutMs = 120_000): Promise<void> {
  if (fresh()) return;
  mkdirSync(join(ROOT, 'dist'), { recursive: true });
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      // Another test file is building; a lock older than the timeout is a crashed build.
      if (existsSync(LOCK) && Date.now() - statSync(LOCK).mtimeMs > timeoutMs) rmSync(LOCK, { recursive: true, force: true });
      if (Date.now() > end) throw new Error('timed out waiting for another process to build the console');
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    if (fresh()) return;
    const { build } = await import('vite');
    await build({ configFile: join(SOURCES, 'vite.config.ts'), logLevel: 'error' });
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}
