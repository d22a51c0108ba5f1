/** Runs python-kasa (installed into .venv from requirements/test-peers.txt) as a test peer. */
import { execFile } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
export const PYTHON = path.join(ROOT, '.venv/bin/python');
export const KASA = path.join(ROOT, '.venv/bin/kasa');

export interface PeerRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program to completion (bounded by `timeoutMs`), feeding `input` on stdin. */
export function run(file: string, args: string[], input = '', timeoutMs = 60_000): Promise<PeerRun> {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') {
        reject(new Error(`${path.basename(file)} ${args.join(' ')} failed: ${err.message}\n${stderr}`));
        return;
      }
      resolve({ code: typeof err?.code === 'number' ? err.code : 0, stdout, stderr });
    });
    child.stdin?.end(input);
  });
}

/** Runs one of test/peers/*.py with JSON on stdin and parses its JSON stdout. */
export async function pythonPeer<T>(script: string, input: unknown, timeoutMs = 60_000): Promise<T> {
  const result = await run(PYTHON, [path.join(ROOT, 'test/peers', script)], JSON.stringify(input), timeoutMs);
  if (result.code !== 0) throw new Error(`${script} exited with ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

/** Runs the `kasa` command line against one host:port. */
export function kasa(args: string[], timeoutMs = 60_000): Promise<PeerRun> {
  return run(KASA, args, '', timeoutMs);
}
