import { describe, expect, it } from 'vitest';
import { fileJobId, MAX_JOB_DOCUMENT_BYTES, parseJobDocument, serializeJobDocument, worstCaseJobDocumentBytes } from '../../../core/jobs/job-document';
import { parseJobRequestTopic } from '../../../core/jobs/topics';

const file = { url: 's3://bucket-1/fw.bin', hash: 'a'.repeat(64), size: 3, bucket: 'bucket-1', key: 'fw.bin', versionId: 'v1' };

describe('the file job document', () => {
  it('carries what desired.s3 carries (a signed release inside it too)', () => {
    expect(parseJobDocument(JSON.parse(serializeJobDocument(file)))).toEqual({ operation: 'shadowplug.file', file });
    const signed = { ...file, manifest: { key: 'fw.bin' }, signature: 'MEUC' };
    expect(parseJobDocument(JSON.parse(serializeJobDocument(signed))).file).toEqual(signed);
  });

  it("refuses a document over IoT's 32 KB, another operation, or no file", () => {
    expect(() => serializeJobDocument({ ...file, pad: 'x'.repeat(MAX_JOB_DOCUMENT_BYTES) })).toThrow(/exceeds IoT's 32768-byte limit/);
    expect(() => parseJobDocument({ operation: 'reboot', file })).toThrow(expect.objectContaining({ code: 'JOB_DOCUMENT_INVALID' }));
    expect(() => parseJobDocument({ operation: 'shadowplug.file' })).toThrow(/no file object/);
  });

  it("keeps the largest possible document (S3's longest key, escaped six-fold, signed) within IoT's 32 KB", () => {
    const worst = worstCaseJobDocumentBytes('releases/');
    expect(worst).toBeLessThanOrEqual(MAX_JOB_DOCUMENT_BYTES);
    const longest = { ...file, key: '\u0001'.repeat(1024), url: `s3://bucket-1/${'\u0001'.repeat(1024)}` };
    expect(worst).toBeGreaterThan(Buffer.byteLength(serializeJobDocument(longest)));
  });

  it('names one job per object version', () => {
    expect(fileJobId(file)).toMatch(/^sp-[0-9a-f]{24}$/);
    expect(fileJobId(file)).toBe(fileJobId({ ...file }));
    expect(fileJobId(file)).not.toBe(fileJobId({ ...file, versionId: 'v2' }));
  });
});

describe('job request topics', () => {
  it.each([
    ['$aws/things/t1/jobs/get', { thingName: 't1', operation: 'get' }],
    ['$aws/things/t1/jobs/start-next', { thingName: 't1', operation: 'start-next' }],
    ['$aws/things/t1/jobs/sp-1/update', { thingName: 't1', operation: 'update', jobId: 'sp-1' }],
    ['$aws/things/t1/jobs/sp-1/get', { thingName: 't1', operation: 'job-get', jobId: 'sp-1' }],
    ['$aws/things/t1/jobs/notify-next', undefined],
    ['$aws/things/t1/jobs/sp-1/update/accepted', undefined],
    ['$aws/things/t1/shadow/update', undefined],
  ])('%s', (topic, expected) => {
    expect(parseJobRequestTopic(topic)).toEqual(expected);
  });
});
