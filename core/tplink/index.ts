/** The TP-Link local protocol: codec, commands, transports, the Plug, and operations. */
export * from './address';
export * from './codec';
export * from './commands';
export * from './errors';
export * from './transport';
export * from './xor-tcp-transport';
export * from './framed-connection';
export * from './lease-holder';
export * from './device-lock';
export * from './plug';
export * from './operations';
export * from './discovery';
