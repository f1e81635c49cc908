import { lazy, Suspense } from 'react';
import { Navigate, NavLink, Route, Routes, useParams } from 'react-router-dom';
import { Loading } from './components';
import { ExperimentsPage } from './pages/experiments';
import { HomePage } from './pages/home';
import { ModelPage } from './pages/model';
import { ModelsPage } from './pages/models';
import { RunRedirect } from './pages/run-redirect';
import { RunsPage } from './pages/runs';
import { SettingsPage } from './pages/settings';
import { VersionPage } from './pages/version';
import { routes } from './routes';

// Pages that draw charts load uPlot with them, outside the initial bundle (goal G14).
const RunPage = lazy(() => import('./pages/run'));
const ComparePage = lazy(() => import('./pages/compare'));
const CompareVersionsPage = lazy(() => import('./pages/compare-versions'));
const ChartsPage = lazy(() => import('./pages/charts'));
const LoggedModelsPage = lazy(() => import('./pages/logged-models'));
const LoggedModelPage = lazy(() => import('./pages/logged-model'));

function ExperimentRedirect() {
  const { experimentId } = useParams();
  return <Navigate replace to={routes.runs(experimentId!)} />;
}

function NotFound() {
  return (
    <section>
      <h1>Page not found</h1>
      <p>
        There is no page at this address. <NavLink to={routes.home()}>Go home</NavLink>.
      </p>
    </section>
  );
}

/** The shell (navigation, main landmark) and the route table (ui.md §5.2). */
export function App() {
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="top-bar">
        <NavLink to={routes.home()} className="brand" end>
          Mast
        </NavLink>
        <nav aria-label="Main">
          <NavLink to={routes.experiments()}>Experiments</NavLink>
          <NavLink to={routes.models()}>Models</NavLink>
          <NavLink to={routes.settings()}>Settings</NavLink>
        </nav>
      </header>
      <main id="main">
        <Suspense fallback={<Loading what="page" />}>
          <Routes>
            <Route path="/" element={<HomePage />} />
            <Route path="/experiments" element={<ExperimentsPage />} />
            <Route path="/experiments/:experimentId" element={<ExperimentRedirect />} />
            <Route path="/experiments/:experimentId/runs" element={<RunsPage />} />
            <Route path="/experiments/:experimentId/runs/:runId/:tab?" element={<RunPage />} />
            <Route path="/experiments/:experimentId/runs/:runId/artifacts/*" element={<RunPage />} />
            <Route path="/experiments/:experimentId/charts" element={<ChartsPage />} />
            <Route path="/experiments/:experimentId/models" element={<LoggedModelsPage />} />
            <Route path="/experiments/:experimentId/models/:modelId/:tab?" element={<LoggedModelPage />} />
            <Route
              path="/experiments/:experimentId/models/:modelId/artifacts/*"
              element={<LoggedModelPage />}
            />
            <Route path="/runs/:runId" element={<RunRedirect />} />
            <Route path="/compare" element={<ComparePage />} />
            <Route path="/models" element={<ModelsPage />} />
            <Route path="/models/:name" element={<ModelPage />} />
            <Route path="/models/:name/versions/:version" element={<VersionPage />} />
            <Route path="/models/:name/compare" element={<CompareVersionsPage />} />
            <Route path="/settings" element={<SettingsPage />} />
            <Route path="*" element={<NotFound />} />
          </Routes>
        </Suspense>
      </main>
    </>
  );
}
