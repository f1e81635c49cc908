export { type ModelServerConfig, modelServerConfig, SERVING_IMAGE_ENV } from './config.js';
export type { Frame, ModelInput } from './domain/model-input.js';
export type { DType, NdArray, TensorInfo } from './domain/tensor.js';
export * from './flavors/index.js';
export * from './model-uri/index.js';
export * from './serve.js';
export { buildModelServer, type ModelServerOptions } from './server.js';
