/** What the button function loads only when a plug turns out not to speak XOR: KLAP, AES, SMART, detection, the credentials secret. */
export { createNewerPlugs } from '../core/button/newer-plugs';
export { secretCredentials } from '../core/button/secret-credentials';
