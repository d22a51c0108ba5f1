/**
 * The `npx cdk deploy` command lines the README and docs/deploy.md show, as the context each one
 * passes, so tests synthesize every documented command as written.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../lib/constructs/bundled-function';

/** Placeholders the docs write in command lines, and what a reader would type for them. */
const PLACEHOLDERS: [RegExp, string][] = [
  [/^<address the Lambda uses to reach your plug>$/, 'plug.example.net'],
  [/^<your plug's LAN address>$/, '192.168.1.20'],
  [/^\.\.\.$/, 'plug.example.net'],
  [/<region>/, 'eu-west-1'],
  [/<account>/, '123456789012'],
  [/<id>/, 'c'.repeat(64)],
];

/** Every `npx cdk deploy` line in a markdown file, as `-c key=value` context. */
function documentedDeployCommands(markdown: string): { line: string; context: Record<string, string> }[] {
  const blocks = [...markdown.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => (m[1] ?? '').replace(/\\\n\s*/g, ''));
  return blocks
    .flatMap((block) => block.split('\n'))
    .filter((line) => line.trim().startsWith('npx cdk deploy'))
    .map((line) => {
      const context: Record<string, string> = {};
      // `-c key=value`, where a value may be a run of words up to the next ` -c ` (the README's <placeholder>).
      for (const [, key, raw] of line.matchAll(/-c (\w+)=(.*?)(?= -c |\s*$)/g)) {
        // A value in single quotes (JSON for the shell) is passed without them, as the shell does.
        const unquoted = (raw ?? '').trim().replace(/^'(.*)'$/, '$1');
        const value = PLACEHOLDERS.reduce((v, [pattern, sample]) => v.replace(pattern, sample), unquoted);
        context[key as string] = value;
      }
      return { line: line.trim(), context };
    });
}

/** Every deploy command line of the README and docs/deploy.md, with the file it is in. */
export const DOCUMENTED_DEPLOY_COMMANDS = ['README.md', 'docs/deploy.md'].flatMap((file) =>
  documentedDeployCommands(readFileSync(join(PROJECT_ROOT, file), 'utf8')).map((c) => ({ ...c, file })),
);

