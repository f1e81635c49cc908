import { useEffect, useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { parse as parseYaml } from 'yaml';
import { useQuery } from '../api';
import { type CompareRow, CompareTable, compareRows } from '../compare-table';
import { ErrorMessage, Loading, PageHeader } from '../components';
import { formatDuration, formatTime, formatValue } from '../format';
import { useMlflowTags } from '../mlflow-tags';
import { routes } from '../routes';
import { useUrlState } from '../url-state';

interface KeyValue {
  key: string;
  value: string;
}

interface ComparedVersion {
  version: string;
  currentStage: string;
  aliases: string[];
  status: string;
  description: string | null;
  source: string;
  creationTimestamp: number;
  tags: KeyValue[];
  run: {
    id: string;
    name: string;
    experimentId: string;
    status: string;
    startTime: number;
    endTime: number | null;
    userId: string;
    latestMetrics: Array<{ key: string; value: number | string }>;
    params: KeyValue[];
    tags: KeyValue[];
  } | null;
}

/** One aliased `modelVersion` per version: the registry's versions and, through federation, their runs. */
function versionsQuery(count: number): string {
  const variables = Array.from({ length: count }, (_, i) => `$v${i}: String!`).join(', ');
  const fields = Array.from(
    { length: count },
    (_, i) => `v${i}: modelVersion(name: $name, version: $v${i}) { ...Compared }`,
  ).join('\n');
  return `query CompareVersions($name: String!, ${variables}) {
${fields}
}
fragment Compared on ModelVersion {
  version currentStage aliases status description source creationTimestamp
  tags { key value }
  run {
    id name experimentId status startTime endTime userId
    latestMetrics { key value } params { key value } tags { key value }
  }
}`;
}

/** A column of an MLflow signature: a ColSpec (`{"name", "type", "required"}`) or a TensorSpec. */
interface SignatureField {
  name?: string;
  type: string;
  required?: boolean;
  'tensor-spec'?: { dtype: string; shape: number[] };
}

interface Signature {
  inputs: SignatureField[];
  outputs: SignatureField[];
}

/** A signature field as one comparable text: `double`, `string (optional)`, `tensor float32 [-1, 4]`. */
function describeField(field: SignatureField): string {
  const spec = field['tensor-spec'];
  const type = spec ? `tensor ${spec.dtype} [${spec.shape.join(', ')}]` : field.type;
  return field.required === false ? `${type} (optional)` : type;
}

/** A signature's inputs or outputs as key-values: the column name, or `#i` for unnamed tensors. */
function signatureItems(fields: SignatureField[] | undefined): KeyValue[] {
  return (fields ?? []).map((field, i) => ({ key: field.name ?? `#${i}`, value: describeField(field) }));
}

/** A signature's JSON list (MLmodel keeps each as a JSON string), or an empty one. */
function parseFields(text: unknown): SignatureField[] {
  if (typeof text !== 'string') return [];
  const value: unknown = JSON.parse(text);
  return Array.isArray(value) ? (value as SignatureField[]) : [];
}

/**
 * The version's signature, read from its `MLmodel` file through the registry's download route (as
 * MLflow's compare page does); null when the version has no MLmodel or no signature.
 */
async function fetchSignature(name: string, version: string): Promise<Signature | null> {
  const url = new URL('model-versions/get-artifact', document.baseURI);
  url.search = new URLSearchParams({ name, version, path: 'MLmodel' }).toString();
  const response = await fetch(url);
  if (!response.ok) return null;
  const mlmodel = parseYaml(await response.text()) as { signature?: { inputs?: unknown; outputs?: unknown } };
  if (!mlmodel?.signature) return null;
  return { inputs: parseFields(mlmodel.signature.inputs), outputs: parseFields(mlmodel.signature.outputs) };
}

/** Each version's signature (null where it has none), fetched once per set of versions. */
function useSignatures(name: string, versions: string[]): Array<Signature | null> | undefined {
  const key = versions.join(',');
  const [signatures, setSignatures] = useState<{ key: string; value: Array<Signature | null> }>();
  useEffect(() => {
    let current = true;
    const list = key.split(',');
    Promise.all(list.map((version) => fetchSignature(name, version).catch(() => null))).then(
      (value) => current && setSignatures({ key, value }),
    );
    return () => {
      current = false;
    };
  }, [name, key]);
  return signatures?.key === key ? signatures.value : undefined;
}

/**
 * P11: versions of a registered model side by side (`?versions=1,2,3`, MLflow's compare model versions
 * page): their attributes, the version tags, their source runs' parameters, latest metrics and tags,
 * and the schema (the MLmodel signature's inputs and outputs). Rows that differ are highlighted, cells
 * that differ from the first version too; `?diff=1` keeps only those rows, `?internal=1` shows
 * MLflow's own run tags.
 */
export default function CompareVersionsPage() {
  const { name } = useParams() as { name: string };
  const url = useUrlState();
  const versionNumbers = url.list('versions').slice(0, 50);
  const differencesOnly = url.get('diff') === '1';
  const mlflowTags = useMlflowTags();
  const variables = { name, ...Object.fromEntries(versionNumbers.map((v, i) => [`v${i}`, v])) };
  const { data, error, loading } = useQuery<Record<string, ComparedVersion | null>>(
    versionsQuery(versionNumbers.length),
    variables,
    versionNumbers.length === 0,
  );
  const signatures = useSignatures(name, versionNumbers);
  if (versionNumbers.length === 0)
    return (
      <p>
        Choose versions to compare on the <Link to={routes.model(name)}>model's page</Link>.
      </p>
    );
  if (error) return <ErrorMessage error={error} />;
  if (loading || !data) return <Loading what="model versions" />;
  const found = versionNumbers.flatMap((_, i) => {
    const version = data[`v${i}`];
    return version ? [{ version, signature: signatures?.[i] ?? null }] : [];
  });
  const versions = found.map((item) => item.version);
  const runOf = (v: ComparedVersion) => v.run;
  const attributes: CompareRow[] = (
    [
      ['Stage', (v) => v.currentStage],
      ['Aliases', (v) => v.aliases.map((alias) => `@${alias}`).join(' ')],
      ['Status', (v) => v.status],
      ['Registered', (v) => formatTime(v.creationTimestamp)],
      ['Description', (v) => v.description ?? ''],
      ['Source', (v) => v.source],
      ['Source run', (v) => runOf(v)?.name ?? ''],
      ['Run status', (v) => runOf(v)?.status ?? ''],
      ['Run started', (v) => formatTime(runOf(v)?.startTime)],
      ['Run duration', (v) => (v.run ? formatDuration(v.run.startTime, v.run.endTime) : '')],
      ['Run user', (v) => runOf(v)?.userId ?? ''],
    ] as Array<[string, (v: ComparedVersion) => string]>
  ).map(([key, value]) => ({ key, values: versions.map(value) }));
  const headers = versions.map((v) => (
    <>
      <Link to={routes.version(name, v.version)}>Version {v.version}</Link>
      {v.run ? (
        <>
          <br />
          <Link className="muted" to={routes.run(v.run.experimentId, v.run.id)}>
            {v.run.name}
          </Link>
        </>
      ) : null}
    </>
  ));
  const table = (caption: string, rows: CompareRow[], empty: string) => (
    <CompareTable
      caption={caption}
      headers={headers}
      rows={rows}
      differencesOnly={differencesOnly}
      empty={empty}
    />
  );
  return (
    <>
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <Link to={routes.models()}>Registered models</Link> / <Link to={routes.model(name)}>{name}</Link> /
        Compare versions
      </nav>
      <PageHeader title={`Compare ${versions.length} versions of ${name}`} />
      {found.length < versionNumbers.length ? (
        <p role="alert">Some of versions {versionNumbers.join(', ')} do not exist.</p>
      ) : null}
      <div className="toolbar">
        <label>
          <input
            type="checkbox"
            checked={differencesOnly}
            onChange={(event) => url.set({ diff: event.target.checked ? '1' : undefined })}
          />{' '}
          Only rows that differ
        </label>
        {mlflowTags.toggle("Show MLflow's own run tags (mlflow.*)")}
      </div>
      {table('Attributes', attributes, 'No attribute.')}
      {table(
        'Version tags',
        compareRows(versions, (v) => v.tags),
        'No version has tags.',
      )}
      {table(
        'Run parameters',
        compareRows(versions, (v) => v.run?.params ?? []),
        'No source run has parameters.',
      )}
      {table(
        'Run metrics',
        compareRows(
          versions,
          (v) => v.run?.latestMetrics ?? [],
          (value) => formatValue(value as number),
        ),
        'No source run has metrics.',
      )}
      {table(
        'Run tags',
        compareRows(versions, (v) => mlflowTags.visible(v.run?.tags ?? [])),
        'No source run has tags to show.',
      )}
      {signatures === undefined ? (
        <Loading what="schemas" />
      ) : (
        <>
          {table(
            'Schema inputs',
            compareRows(found, (item) => signatureItems(item.signature?.inputs)),
            'No version has a signature (MLmodel `signature`).',
          )}
          {table(
            'Schema outputs',
            compareRows(found, (item) => signatureItems(item.signature?.outputs)),
            'No version has output columns in its signature.',
          )}
        </>
      )}
    </>
  );
}
