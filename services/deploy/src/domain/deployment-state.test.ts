import { describe, expect, it } from '@jest/globals';
import {
  canTransition,
  DEPLOYMENT_STATES,
  isFinalState,
  newDeployment,
  transition,
} from './deployment-state.js';

const t0 = new Date('2026-01-01T00:00:00Z');
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);

describe('deployment state machine', () => {
  it('records the happy path with times and reasons', () => {
    let d = newDeployment(t0, 'alias champion set on iris v3');
    d = transition(d, 'BUILDING', 'build job started', at(1));
    d = transition(d, 'BUILT', 'image pushed as sha256:abc', at(20));
    d = transition(d, 'ROLLING_OUT', 'applied Deployment ml/iris', at(21));
    d = transition(d, 'LIVE', 'deployment "iris" successfully rolled out', at(60));
    expect(d.state).toBe('LIVE');
    expect(d.transitions.map((s) => [s.from, s.to])).toEqual([
      [null, 'PENDING'],
      ['PENDING', 'BUILDING'],
      ['BUILDING', 'BUILT'],
      ['BUILT', 'ROLLING_OUT'],
      ['ROLLING_OUT', 'LIVE'],
    ]);
    expect(d.transitions[4]).toEqual({
      from: 'ROLLING_OUT',
      to: 'LIVE',
      at: at(60),
      reason: 'deployment "iris" successfully rolled out',
    });
  });

  it('allows FAILED from every step before LIVE, and ROLLED_BACK only after FAILED', () => {
    for (const from of ['PENDING', 'BUILDING', 'BUILT', 'ROLLING_OUT'] as const) {
      expect(canTransition(from, 'FAILED')).toBe(true);
      expect(canTransition(from, 'ROLLED_BACK')).toBe(false);
    }
    expect(canTransition('FAILED', 'ROLLED_BACK')).toBe(true);
    expect(canTransition('LIVE', 'ROLLED_BACK')).toBe(false);
  });

  it('ends a LIVE deployment SUPERSEDED by the next version, or FAILED when it can no longer serve', () => {
    expect(canTransition('LIVE', 'SUPERSEDED')).toBe(true);
    expect(canTransition('LIVE', 'FAILED')).toBe(true);
    expect(canTransition('ROLLING_OUT', 'SUPERSEDED')).toBe(false);
  });

  it('treats ROLLED_BACK and SUPERSEDED as final', () => {
    expect(DEPLOYMENT_STATES.filter(isFinalState)).toEqual(['ROLLED_BACK', 'SUPERSEDED']);
  });

  it('refuses a skipped step with a 409 naming the allowed ones, without changing the history', () => {
    const d = newDeployment(t0, 'created');
    expect(() => transition(d, 'LIVE', 'too early', at(1))).toThrow(
      expect.objectContaining({
        code: 'RESOURCE_CONFLICT',
        message: 'A deployment in state PENDING cannot move to LIVE (allowed: BUILDING, FAILED).',
      }),
    );
    expect(d.transitions).toHaveLength(1);
    const live = { state: 'LIVE' as const, transitions: [] };
    expect(() => transition(live, 'ROLLED_BACK', 'x', at(1))).toThrow('allowed: SUPERSEDED, FAILED');
    const superseded = { state: 'SUPERSEDED' as const, transitions: [] };
    expect(() => transition(superseded, 'LIVE', 'x', at(1))).toThrow('allowed: none, it is final');
  });

  it('requires a reason', () => {
    expect(() => transition(newDeployment(t0, 'created'), 'BUILDING', '  ', at(1))).toThrow(
      expect.objectContaining({ code: 'INVALID_PARAMETER_VALUE' }),
    );
  });
});
