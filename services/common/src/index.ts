export * from './config.js';
export * from './database.js';
export * from './errors.js';
export * from './graphql/index.js';
export * from './http.js';
export * from './migrations.js';
export * from './request.js';
export * from './wire.js';
