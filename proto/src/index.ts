// Public surface of @mast/proto: the MLflow tracking wire types generated from
// mlflow/service.proto (see buf.gen.yaml; regenerate with `npm run generate -w @mast/proto`).
// Interfaces are type-only; the enums are `as const` objects plus same-named string-union types.
export * from './gen/mlflow/service.js';
