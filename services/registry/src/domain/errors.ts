import { MlflowError } from '@mast/common';

export function modelNotFound(name: string): MlflowError {
  return MlflowError.notFound(`Registered Model with name=${name} not found`);
}

export function modelAlreadyExists(name: string): MlflowError {
  return new MlflowError('RESOURCE_ALREADY_EXISTS', `Registered Model (name=${name}) already exists.`);
}

export function versionNotFound(name: string, version: string | number): MlflowError {
  return MlflowError.notFound(`Model Version (name=${name}, version=${version}) not found`);
}

export function aliasNotFound(alias: string): MlflowError {
  return MlflowError.invalidParameter(`Registered model alias ${alias} not found.`);
}
