import { Navigate, useParams } from 'react-router-dom';
import { useQuery } from '../api';
import { ErrorMessage, Loading } from '../components';
import { routes } from '../routes';

/** `/runs/:runId` (MLflow's direct run link): finds the run's experiment and goes to its page. */
export function RunRedirect() {
  const { runId } = useParams();
  const { data, error } = useQuery<{ run: { experimentId: string } | null }>(
    'query RunExperiment($id: ID!) { run(id: $id) { experimentId } }',
    { id: runId },
  );
  if (error) return <ErrorMessage error={error} />;
  if (!data) return <Loading what="run" />;
  if (!data.run) return <p role="alert">Run {runId} not found.</p>;
  return <Navigate replace to={routes.run(data.run.experimentId, runId!)} />;
}
