export * from './wire.js';
export * from './rest.js';
