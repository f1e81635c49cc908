export * from './mlmodel.js';
export * from './signature.js';
