/**
 * The install step shared by the shadow path and the job runner, with a trusted key: the signed
 * size bounds the download, whatever the server sends.
 */
import { EventEmitter } from 'node:events';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseFileDesired } from '../../../agent/desired';
import { installFile, type InstallDeps } from '../../../agent/install-file';
import type { ObjectSource } from '../../../agent/s3-source';
import { StateStore } from '../../../agent/state-store';
import { trustedKeys } from '../../../core/release/trust';
import { sha256 } from '../../helpers/agent-fixtures';
import { makeKey, signDesired } from '../../helpers/release-keys';

describe('installFile with trusted keys', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'install-trust-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('stops reading at the signed size when the server sends more (OBJECT_TOO_LARGE), installing nothing', async () => {
    const key = makeKey(dir, 'publisher');
    const signedBytes = Buffer.alloc(1000, 1);
    const desired = await signDesired({ url: 's3://b-1/fw.bin', bucket: 'b-1', key: 'fw.bin', versionId: 'v1', hash: sha256(signedBytes), size: signedBytes.length }, key, { release: 1 });
    let sent = 0;
    // A server that does not declare a length and never stops sending.
    const source: ObjectSource = () =>
      Promise.resolve({
        status: 200,
        start: 0,
        body: new Readable({
          read() {
            sent += 256;
            this.push(Buffer.alloc(256, 1));
          },
        }),
      });
    const deps: InstallDeps = {
      property: 's3',
      maxSize: 1024 ** 3,
      store: await StateStore.open(join(dir, 'state')),
      openSource: () => Promise.resolve({ source, close: () => undefined }),
      events: new EventEmitter(),
      clock: Date.now,
      trusted: trustedKeys([key.publicPem]),
    };
    mkdirSync(join(dir, 'dest'));
    const err = await installFile(deps, parseFileDesired(desired), join(dir, 'dest', 'fw.bin'), new AbortController().signal).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'OBJECT_TOO_LARGE' });
    expect(sent).toBeLessThan(1000 + 64 * 1024);
    expect(readdirSync(join(dir, 'dest')).filter((n) => n === 'fw.bin')).toEqual([]);
  });
});

