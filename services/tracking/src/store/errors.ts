/** True when a database error is a unique-constraint violation (PostgreSQL and PGlite both say 23505). */
export function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '23505';
}
