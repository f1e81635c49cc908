/** The theme the user chose (P14); `system` follows the operating system's `prefers-color-scheme`. */
export type ThemePreference = 'light' | 'dark' | 'system';

const STORAGE_KEY = 'mast.theme';
const DARK_QUERY = '(prefers-color-scheme: dark)';

export function readThemePreference(): ThemePreference {
  const stored = localStorage.getItem(STORAGE_KEY);
  return stored === 'light' || stored === 'dark' ? stored : 'system';
}

/** Sets `data-theme` on `<html>` (the stylesheet's switch) from the preference. */
function applyTheme(preference: ThemePreference = readThemePreference()): void {
  const dark = preference === 'dark' || (preference === 'system' && matchMedia(DARK_QUERY).matches);
  document.documentElement.dataset.theme = dark ? 'dark' : 'light';
}

export function saveThemePreference(preference: ThemePreference): void {
  if (preference === 'system') localStorage.removeItem(STORAGE_KEY);
  else localStorage.setItem(STORAGE_KEY, preference);
  applyTheme(preference);
}

/** Applies the theme now and again whenever the system scheme changes (live for `system`). */
export function followTheme(): void {
  applyTheme();
  matchMedia(DARK_QUERY).addEventListener('change', () => applyTheme());
}
