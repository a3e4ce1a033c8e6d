/**
 * The baseline a Node user would reach for: http-proxy-middleware 3 on Express 5, defaults, mounted
 * at /mt in front of the upstream given as argv[2]. With argv[3] === 'keepalive' it gets a
 * keep-alive agent (by default http-proxy opens a new upstream connection per request), to show
 * how much of the gap is that one default.
 */
import express from 'express';
import { createProxyMiddleware } from 'http-proxy-middleware';
import http from 'node:http';
import { serveToParent } from './child.mjs';

const upstream = process.argv[2];
if (!upstream) throw new Error('usage: hpm-server.mjs <upstream url>');
const app = express();
app.disable('x-powered-by');
const keepAlive = process.argv[3] === 'keepalive';
app.use('/mt', createProxyMiddleware({ target: upstream, changeOrigin: true, ...(keepAlive ? { agent: new http.Agent({ keepAlive: true }) } : {}) }));
serveToParent(http.createServer(app));
