import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../core/logger';
import { routeProcessWarnings, warningLine } from '../../../core/process-warnings';

// The AWS SDK's text, as @aws-sdk/core emits it on Node < 22.
const SDK_NOTICE = `NodeVersionSupportWarning: The AWS SDK for JavaScript (v3)
versions published after the first week of January 2027
will require node >=22. You are running node v20.19.0.

To continue receiving updates to AWS services, bug fixes,
and security updates please upgrade to node >=22.

More information can be found at: https://a.co/c895JFp`;

function warning(message: string, name = 'Warning', code?: string): Error & { code?: string } {
  const w: Error & { code?: string } = new Error(message);
  w.name = name;
  if (code) w.code = code;
  return w;
}

describe('process warnings', () => {
  it("turns the AWS SDK's multi-line Node notice into one line with its name and link as fields", () => {
    const line = warningLine(warning(SDK_NOTICE));
    expect(line.message).not.toContain('\n');
    expect(line.message).toMatch(/^The AWS SDK for JavaScript \(v3\) versions published after .* will require node >=22\. You are running node v20\.19\.0\./);
    expect(line.fields).toEqual({ warning: 'NodeVersionSupportWarning', see: 'https://a.co/c895JFp' });
  });

  it('keeps the name and code of an ordinary warning', () => {
    expect(warningLine(warning('Buffer() is deprecated', 'DeprecationWarning', 'DEP0005'))).toEqual({
      message: 'Buffer() is deprecated',
      fields: { warning: 'DeprecationWarning', code: 'DEP0005' },
    });
  });

  it('replaces the printers with the logger, logs each distinct warning once as one JSON line, and can be undone', () => {
    const proc = new EventEmitter();
    const printed: unknown[] = [];
    proc.on('warning', (w) => printed.push(w));
    const lines: string[] = [];
    const undo = routeProcessWarnings(proc, createLogger({ json: true, write: (l) => lines.push(l) }));
    proc.emit('warning', warning(SDK_NOTICE));
    proc.emit('warning', warning(SDK_NOTICE));
    proc.emit('warning', warning('other'));
    expect(printed).toEqual([]);
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'warn', warning: 'NodeVersionSupportWarning', see: 'https://a.co/c895JFp' });
    undo();
    proc.emit('warning', warning('after'));
    expect(printed).toHaveLength(1);
    expect(lines).toHaveLength(2);
  });
});
