import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const mainTs = fileURLToPath(new URL('../../../apps/server/src/main.ts', import.meta.url));

export interface CirclesProcess {
  child: ChildProcess;
  /** Everything the process printed (JSON log lines). */
  output(): string;
  /** Resolves with the exit code after SIGTERM (or SIGKILL after `graceMs`). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

/** Starts `apps/server/src/main.ts` as its own process with the given environment (one role of a split deployment). */
export function spawnCircles(env: Record<string, string>): CirclesProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', mainTs], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => out,
    exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null) return child.exitCode;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Polls `url` until it answers 200, failing early (with the process output) if the process exits. */
export async function waitReady(url: string, proc?: Pick<CirclesProcess, 'child' | 'output'>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc && proc.child.exitCode !== null) throw new Error(`process exited (${proc.child.exitCode}) before ready:\n${proc.output()}`);
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms\n${proc?.output() ?? ''}`);
}

/** Builds the web app once if it has no production build (browser and web-tier tests need one). */
export function ensureWebBuild(): void {
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  if (existsSync(`${root}apps/web/.next/BUILD_ID`)) return;
  execFileSync('npm', ['run', 'build', '-w', '@circles/web'], { cwd: root, stdio: 'inherit', env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' } });
}
