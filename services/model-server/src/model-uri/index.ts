export { type FetchedModel, type FetchModelOptions, fetchModel, type ModelStore } from './fetch-model.js';
export { locateModel, type ModelLocation, ModelUriError, PROXY_ROUTE } from './location.js';
