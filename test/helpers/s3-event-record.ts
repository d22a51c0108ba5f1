/** A realistic S3 event notification record for tests; every field can be overridden. */
import type { S3EventRecord } from 'aws-lambda';

export function s3EventRecord(overrides: { eventName?: string; key?: string; size?: number; eTag?: string; sequencer?: string; versionId?: string; eventTime?: string; bucket?: string } = {}): S3EventRecord {
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: 'us-east-1',
    eventTime: overrides.eventTime ?? '2026-11-21T10:00:00.000Z',
    eventName: overrides.eventName ?? 'ObjectCreated:Put',
    userIdentity: { principalId: 'x' },
    requestParameters: { sourceIPAddress: '127.0.0.1' },
    responseElements: { 'x-amz-request-id': 'r', 'x-amz-id-2': 'i' },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'c',
      bucket: { name: overrides.bucket ?? 'b', ownerIdentity: { principalId: 'x' }, arn: 'arn:aws:s3:::b' },
      object: {
        key: overrides.key ?? 'a.txt',
        size: overrides.size ?? 5,
        eTag: overrides.eTag ?? '5d41402abc4b2a76b9719d911017c592',
        sequencer: overrides.sequencer ?? '0055AED6DCD90281E5',
        ...(overrides.versionId ? { versionId: overrides.versionId } : {}),
      },
    },
  } as S3EventRecord;
}
