/**
 * Client settings every S3 client pointed at an S3-compatible or local endpoint (the sandbox's, MinIO)
 * needs: path-style addressing, and checksums only when required — otherwise the SDK sends
 * aws-chunked uploads that such servers store with the chunk framing. FIPS and dual-stack
 * endpoints do not apply to an endpoint given by URL (the SDK refuses FIPS with one): said here,
 * the SDK does not look for them in the environment and ~/.aws/config (with an error caught per
 * setting) for every new client: in a sandbox of 1,000 agents, 1,000 times during their first download.
 * Pure: shared by the device agent and the sandbox without either loading the other.
 */
export const S3_COMPATIBLE_ENDPOINT_SETTINGS = {
  forcePathStyle: true,
  useFipsEndpoint: false,
  useDualstackEndpoint: false,
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
} as const;
