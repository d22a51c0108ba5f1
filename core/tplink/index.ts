/**
 * The TP-Link local protocols: codec, commands, the XOR, KLAP and AES transports, the IOT Plug and
 * the SMART plug, detection, operations, discovery. Importing this index pulls in every transport:
 * the button Lambda imports by path (tplink/plug, tplink/commands) to keep its bundle small.
 */
export * from './address';
export * from './codec';
export * from './commands';
export * from './errors';
export * from './transport';
export * from './xor-transport';
export * from './device-mutex';
export * from './plug';
export * from './operations';
export * from './discovery';
export * from './klap-crypto';
export * from './aes-crypto';
export { KASA_DEFAULT_CREDENTIALS, TAPO_DEFAULT_CREDENTIALS, BLANK_CREDENTIALS, candidateCredentials, credentialsFromEnv } from './credentials';
export * from './session-transport';
export * from './klap-transport';
export * from './aes-transport';
export * from './smart-protocol';
export * from './smart-plug';
export * from './meter';
export * from './connect';
export * from './tdp';
