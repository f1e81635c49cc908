export * from './expensive-requests.js';
export * from './keys.js';
export * from './paging.js';
export * from './routes.js';
export * from './view-type.js';
