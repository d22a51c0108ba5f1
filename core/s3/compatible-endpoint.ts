/**
 * What an S3 client pointed at an S3-compatible or local endpoint needs: path-style addressing,
 * checksums only when required (else such servers store aws-chunked uploads with the framing), and
 * FIPS and dual-stack said off, so the SDK does not look for them in the environment and
 * ~/.aws/config for every new client (1,000 times in a sandbox of 1,000 agents). Pure.
 */
export const S3_COMPATIBLE_ENDPOINT_SETTINGS = {
  forcePathStyle: true,
  useFipsEndpoint: false,
  useDualstackEndpoint: false,
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
} as const;
