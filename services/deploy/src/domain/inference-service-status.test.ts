import { describe, expect, it } from '@jest/globals';
import { inferenceServiceStatus } from './inference-service-status.js';

describe('inferenceServiceStatus', () => {
  it('waits until the generation is observed, even if Ready', () => {
    expect(
      inferenceServiceStatus({
        metadata: { name: 'iris', generation: 2 },
        status: { observedGeneration: 1, conditions: [{ type: 'Ready', status: 'True' }] },
      }),
    ).toEqual({ kind: 'waiting', message: 'Waiting for inference service spec update to be observed...' });
  });

  it('is done when Ready and the latest revision is ready', () => {
    const status = inferenceServiceStatus({
      metadata: { name: 'iris', generation: 2 },
      status: {
        observedGeneration: 2,
        conditions: [{ type: 'Ready', status: 'True' }],
        components: {
          predictor: { latestCreatedRevision: 'iris-predictor-2', latestReadyRevision: 'iris-predictor-2' },
        },
      },
    });
    expect(status).toEqual({ kind: 'done', message: 'inference service "iris" is ready' });
  });

  it('waits while Ready describes the previous revision', () => {
    const status = inferenceServiceStatus({
      metadata: { name: 'iris', generation: 2 },
      status: {
        observedGeneration: 2,
        conditions: [{ type: 'Ready', status: 'True' }],
        components: {
          predictor: { latestCreatedRevision: 'iris-predictor-2', latestReadyRevision: 'iris-predictor-1' },
        },
      },
    });
    expect(status.kind).toBe('waiting');
  });

  it('fails with lastFailureInfo when the model failed to load', () => {
    expect(
      inferenceServiceStatus({
        metadata: { name: 'iris', generation: 1 },
        status: {
          observedGeneration: 1,
          conditions: [{ type: 'Ready', status: 'False', reason: 'PredictorNotReady' }],
          modelStatus: {
            transitionStatus: 'BlockedByFailedLoad',
            states: { activeModelState: 'Pending', targetModelState: 'FailedToLoad' },
            lastFailureInfo: { reason: 'ModelLoadFailed', message: 'container crashed' },
          },
        },
      }),
    ).toEqual({
      kind: 'failed',
      reason: 'ModelLoadFailed',
      message: 'inference service "iris" failed: container crashed',
    });
  });

  it('names the Ready reason while waiting', () => {
    expect(
      inferenceServiceStatus({
        metadata: { name: 'iris', generation: 1 },
        status: {
          observedGeneration: 1,
          conditions: [{ type: 'Ready', status: 'False', reason: 'PredictorNotReady', message: 'loading' }],
        },
      }).message,
    ).toBe('Waiting for inference service "iris" to become ready (PredictorNotReady: loading)...');
  });
});
