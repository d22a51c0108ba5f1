/**
 * Client settings every S3 client pointed at an S3-compatible or local endpoint (the sandbox's, MinIO)
 * needs: path-style addressing, and checksums only when required — otherwise the SDK sends
 * aws-chunked uploads that such servers store with the chunk framing. Pure: shared by the
 * device agent and the sandbox without either loading the other.
 */
export const S3_COMPATIBLE_ENDPOINT_SETTINGS = {
  forcePathStyle: true,
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
} as const;
