import { useState } from 'react';
import { PageHeader } from '../components';
import { readThemePreference, saveThemePreference, type ThemePreference } from '../theme';

const THEMES: Array<{ value: ThemePreference; label: string }> = [
  { value: 'light', label: 'Light' },
  { value: 'dark', label: 'Dark' },
  { value: 'system', label: 'Follow the system' },
];

/** P14: the theme (light, dark, or the system's, live), kept in this browser. */
export function SettingsPage() {
  const [theme, setTheme] = useState(readThemePreference);
  function choose(value: ThemePreference) {
    setTheme(value);
    saveThemePreference(value);
  }
  return (
    <>
      <PageHeader title="Settings" />
      <fieldset>
        <legend>Theme</legend>
        {THEMES.map(({ value, label }) => (
          <label key={value} className="choice">
            <input
              type="radio"
              name="theme"
              value={value}
              checked={theme === value}
              onChange={() => choose(value)}
            />{' '}
            {label}
          </label>
        ))}
      </fieldset>
      <p className="muted">Kept in this browser only.</p>
    </>
  );
}
