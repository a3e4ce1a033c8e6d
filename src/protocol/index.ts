export * from './routes.js';
export * from './wire.js';
export * from './rest.js';
