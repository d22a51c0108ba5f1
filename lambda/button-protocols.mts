/**
 * What the button function loads only when a plug turns out not to speak XOR: the KLAP and AES
 * transports, the SMART protocol, detection, and the Secrets Manager credentials source. Bundled
 * into its own file beside the handler (`button-protocols.mjs`) and imported on demand, so an
 * XOR-only click does not load it.
 */
export { createNewerPlugs } from '../core/button/newer-plugs';
export { secretCredentials } from '../core/button/secret-credentials';
