export type { ImageBehaviour } from './behaviours.js';
export { FakeClock } from './clock.js';
export { typeOfKind } from './resources.js';
export { FakeKubeApiServer, type InjectedFailure, type RecordedRequest, startFakeKube } from './server.js';
export { KubeStatusError } from './store.js';
