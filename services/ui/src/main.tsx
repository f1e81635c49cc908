import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router-dom';
import { App } from './app';
import { fromMlflowHashLink } from './routes';
import { followTheme } from './theme';
import './styles.css';

followTheme();

// The app lives under the document's <base href> (the server's --static-prefix).
const basename = new URL(document.baseURI).pathname.replace(/\/$/, '');

// MLflow's links are hash routes (`/#/experiments/1/runs/abc`): rewrite them to Mast's paths.
const rewritten = fromMlflowHashLink(window.location.hash);
if (rewritten !== undefined) window.history.replaceState(null, '', `${basename}${rewritten}`);

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <BrowserRouter basename={basename}>
      <App />
    </BrowserRouter>
  </StrictMode>,
);
