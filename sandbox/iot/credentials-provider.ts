/**
 * The IoT credentials provider: `GET /role-aliases/<alias>/credentials` over mutual TLS with a
 * thing's certificate and `x-amzn-iot-thingname` equal to its CN, answering
 * `{"credentials":{accessKeyId, secretAccessKey, sessionToken, expiration}}`. The keys handed out
 * are the ones the sandbox configures (its local S3's); the session token is fresh per call.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { silentLogger, type Logger } from '../../core/logger';
import { guardRequests, serverOptions } from '../http-server';
import { decodePathSegment, listenHttps, sendJson as send } from './https-listen';

export interface ProvidedCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** Default 3600 (AWS: 900–43200). */
  lifetimeSeconds?: number;
}

export interface CredentialsProviderOptions {
  host: string;
  port: number;
  tls: { cert: string; key: string; ca: string };
  roleAlias: string;
  credentials: ProvidedCredentials;
  clock?: () => number;
  logger?: Logger;
}

const PATH = /^\/role-aliases\/([^/]+)\/credentials$/;

export async function startCredentialsProvider(options: CredentialsProviderOptions): Promise<{ port: number; close(): Promise<void> }> {
  const logger = options.logger ?? silentLogger;
  const clock = options.clock ?? Date.now;
  const lifetime = options.credentials.lifetimeSeconds ?? 3600;

  const server = createServer(
    { cert: options.tls.cert, key: options.tls.key, ca: options.tls.ca, requestCert: true, rejectUnauthorized: true, ...serverOptions() },
    guardRequests((req, res) => {
      const url = new URL(req.url ?? '/', 'https://localhost');
      const m = PATH.exec(url.pathname);
      if (!m || req.method !== 'GET') return send(res, 404, { message: `No such resource: ${req.method} ${url.pathname}` });
      const alias = decodePathSegment(m[1]!);
      const subject = (req.socket as TLSSocket).getPeerCertificate().subject as Record<string, unknown> | undefined;
      const commonName = subject?.CN;
      const thingHeader = req.headers['x-amzn-iot-thingname'];
      if (alias !== options.roleAlias) {
        logger.warn('credentials refused: unknown role alias', { alias, commonName });
        return send(res, 404, { message: 'Role alias does not exist' });
      }
      if (subject?.OU === 'button' || typeof commonName !== 'string' || thingHeader !== commonName) {
        logger.warn('credentials refused: thing name header does not match the certificate', { header: thingHeader, commonName });
        return send(res, 403, { message: 'Access Denied' });
      }
      const expiration = new Date(clock() + lifetime * 1000).toISOString();
      logger.info('credentials issued', { thingName: commonName, roleAlias: alias, expiration });
      send(res, 200, {
        credentials: {
          accessKeyId: options.credentials.accessKeyId,
          secretAccessKey: options.credentials.secretAccessKey,
          sessionToken: randomBytes(32).toString('base64'),
          expiration,
        },
      });
    }),
  );
  server.on('tlsClientError', (err, socket) => {
    logger.warn('credentials provider TLS handshake refused', { remote: `${socket.remoteAddress}:${socket.remotePort}`, reason: err.message });
  });
  return listenHttps(server, 'the credentials provider', options.host, options.port);
}
