/** Starts test/support/serve-child.ts as a child process and waits for its URL; `stop` is SIGTERM (graceful). */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export interface ChildGateway {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

export async function startChildGateway(configFile: string, instance?: string): Promise<ChildGateway> {
  const args = ['--import', 'tsx', join(import.meta.dirname, 'serve-child.ts'), configFile, ...(instance ? [instance] : [])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.on('exit', (code) => reject(new Error(`gateway exited with ${code}`)));
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    url,
    child,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
