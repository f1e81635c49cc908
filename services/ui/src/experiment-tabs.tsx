import { NavLink } from 'react-router-dom';
import { routes } from './routes';

/**
 * An experiment's views, as MLflow's experiment page tabs: the runs table, the chart view of its runs
 * (of `chartRuns` when some are selected) and its logged models.
 */
export function ExperimentTabs({
  experimentId,
  chartRuns = [],
}: {
  experimentId: string;
  chartRuns?: readonly string[];
}) {
  const charts = routes.charts(experimentId);
  const tabs = [
    { to: routes.runs(experimentId), label: 'Runs' },
    { to: chartRuns.length > 0 ? `${charts}?runs=${chartRuns.join(',')}` : charts, label: 'Chart view' },
    { to: routes.loggedModels(experimentId), label: 'Models' },
  ];
  return (
    <nav aria-label="Experiment views" className="tabs">
      {tabs.map((tab) => (
        <NavLink key={tab.to} to={tab.to} end={tab.label !== 'Models'}>
          {tab.label}
        </NavLink>
      ))}
    </nav>
  );
}
