import { describe, expect, test } from '@jest/globals';
import { newScorerId, scorerNotFound } from './scorers.js';

describe('scorer rules', () => {
  test('scorer ids are distinct dashed uuid4 strings', () => {
    const id = newScorerId();
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(newScorerId()).not.toBe(id);
  });

  test("an unknown name is MLflow's 404 naming the experiment", () => {
    const error = scorerNotFound('7', 'accuracy');
    expect({ code: error.code, message: error.message }).toEqual({
      code: 'RESOURCE_DOES_NOT_EXIST',
      message: "Scorer with name 'accuracy' not found for experiment 7.",
    });
  });

  test('an unknown version names the version too', () => {
    expect(scorerNotFound('7', 'accuracy', 999).message).toBe(
      "Scorer with name 'accuracy' and version 999 not found for experiment 7.",
    );
  });
});
