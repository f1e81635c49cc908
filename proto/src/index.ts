// Public surface of @mast/proto: the MLflow tracking wire types generated from
// mlflow/service.proto, the model registry's from mlflow/model_registry.proto, and Mast's event messages from mast/events/v1/events.proto (see buf.gen.yaml;
// regenerate with `npm run generate -w @mast/proto`).
// Interfaces are type-only; the enums are `as const` objects plus same-named string-union types.
export * from './events.js';
export * from './gen/mast/events/v1/events.js';
export * from './gen/mlflow/model_registry.js';
export * from './gen/mlflow/service.js';
