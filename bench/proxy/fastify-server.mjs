/**
 * The fastest Node proxy a user would pick: `@fastify/http-proxy` on fastify 5, defaults (its
 * `@fastify/reply-from` sends through an undici keep-alive pool), mounted at /mt in front of the
 * upstream given as argv[2].
 */
import http from 'node:http';
import Fastify from 'fastify';
import fastifyHttpProxy from '@fastify/http-proxy';
import { serveToParent } from './child.mjs';

const upstream = process.argv[2];
if (!upstream) throw new Error('usage: fastify-server.mjs <upstream url>');
/** @type {http.Server | undefined} */
let server;
const app = Fastify({
  logger: false,
  serverFactory: (handler) => {
    server = http.createServer(handler);
    return server;
  },
});
await app.register(fastifyHttpProxy, { upstream, prefix: '/mt' });
await app.ready();
if (!server) throw new Error('fastify did not create its server');
serveToParent(server);
