{{/*
Names and labels. A component's resources are named `<fullname>-<component>` (`mast-tracking`);
selector labels are name + instance + component only, because `spec.selector` is immutable.
*/}}
{{- define "mast.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "mast.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "mast.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* `<fullname>-<component>`; argument: (dict "root" $ "component" "tracking") */}}
{{- define "mast.componentName" -}}
{{- printf "%s-%s" (include "mast.fullname" .root) .component | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Selector labels; argument: (dict "root" $ "component" "tracking") */}}
{{- define "mast.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mast.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Every label; argument: (dict "root" $ "component" "tracking") */}}
{{- define "mast.labels" -}}
{{ include "mast.selectorLabels" . }}
helm.sh/chart: {{ include "mast.chart" .root }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: mast
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
An image reference `<registry>/<repository>:<tag>` (or `@<digest>`); the tag defaults to the chart's
appVersion and `global.imageRegistry` overrides the registry. Argument: (dict "root" $ "image" .Values.x.image)
*/}}
{{- define "mast.image" -}}
{{- $registry := .root.Values.global.imageRegistry | default .image.registry -}}
{{- $prefix := ternary "" (printf "%s/" $registry) (empty $registry) -}}
{{- if .image.digest -}}
{{- printf "%s%s@%s" $prefix .image.repository .image.digest -}}
{{- else -}}
{{- printf "%s%s:%s" $prefix .image.repository (.image.tag | default .root.Chart.AppVersion) -}}
{{- end -}}
{{- end -}}

{{- define "mast.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "mast.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "mast.workerServiceAccountName" -}}
{{- default (include "mast.componentName" (dict "root" . "component" "deploy-worker")) .Values.deployWorker.serviceAccount.name -}}
{{- end -}}

{{/* The port every Mast process listens on (`MAST_PORT`), named `http` in pods and Services. */}}
{{- define "mast.port" -}}5000{{- end -}}

{{/* In-cluster base URL of a component's Service; argument: (dict "root" $ "component" "tracking" "values" .Values.tracking) */}}
{{- define "mast.serviceUrl" -}}
{{- printf "http://%s:%v" (include "mast.componentName" .) .values.service.port -}}
{{- end -}}

{{/*
Generated passwords of the bundled PostgreSQL and MinIO: the value if set, else the one in the
Secret of a previous release, else a new random one. Stored back into .Values so that every template
of this render (the services' Secret, the migration hook's Secret, the bundled pods) sees the same one.
*/}}
{{- define "mast.generatePasswords" -}}
{{- $postgresql := and .Values.postgresql.enabled (not .Values.postgresql.auth.password) -}}
{{- $minio := and .Values.minio.enabled (not .Values.minio.rootPassword) -}}
{{- if or $postgresql $minio -}}
{{- $secret := lookup "v1" "Secret" .Release.Namespace (printf "%s-bundled" (include "mast.fullname" .)) -}}
{{- $old := ($secret | default dict).data | default dict -}}
{{- if $postgresql -}}
{{- $_ := set .Values.postgresql.auth "password" (get $old "postgresql-password" | b64dec | default (randAlphaNum 24)) -}}
{{- end -}}
{{- if $minio -}}
{{- $_ := set .Values.minio "rootPassword" (get $old "minio-root-password" | b64dec | default (randAlphaNum 24)) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Percent-encodes a URL's user or password: urlquery writes a space as '+', which URLs' userinfo keeps as '+'. */}}
{{- define "mast.urlEscape" -}}
{{- . | urlquery | replace "+" "%20" -}}
{{- end -}}

{{/* The `postgresql://` URL the chart builds (bundled PostgreSQL or externalDatabase's fields). */}}
{{- define "mast.databaseUrl" -}}
{{- include "mast.generatePasswords" . -}}
{{- if .Values.postgresql.enabled -}}
{{- $auth := .Values.postgresql.auth -}}
{{- printf "postgresql://%s:%s@%s-postgresql:5432/%s" (include "mast.urlEscape" $auth.user) (include "mast.urlEscape" $auth.password) (include "mast.fullname" .) $auth.database -}}
{{- else -}}
{{- $db := .Values.externalDatabase -}}
{{- if not $db.host -}}
{{- fail "A database is required: set externalDatabase.host (or externalDatabase.existingSecret), or postgresql.enabled=true for a trial" -}}
{{- end -}}
{{- $password := ternary "" (printf ":%s" (include "mast.urlEscape" $db.password)) (empty $db.password) -}}
{{- $params := ternary "" (printf "?%s" $db.params) (empty $db.params) -}}
{{- printf "postgresql://%s%s@%s:%v/%s%s" (include "mast.urlEscape" $db.user) $password $db.host $db.port $db.database $params -}}
{{- end -}}
{{- end -}}

{{/* The `redis://` URL the chart builds (bundled Redis or externalRedis's fields). */}}
{{- define "mast.redisUrl" -}}
{{- if .Values.redis.enabled -}}
{{- printf "redis://%s-redis:6379/0" (include "mast.fullname" .) -}}
{{- else -}}
{{- $redis := .Values.externalRedis -}}
{{- if not $redis.host -}}
{{- fail "Redis is required (the deploy workers' and webhooks' queues): set externalRedis.host (or externalRedis.existingSecret), or redis.enabled=true for a trial" -}}
{{- end -}}
{{- $password := ternary "" (printf ":%s@" (include "mast.urlEscape" $redis.password)) (empty $redis.password) -}}
{{- printf "%s://%s%s:%v/%v" (ternary "rediss" "redis" $redis.tls) $password $redis.host $redis.port $redis.database -}}
{{- end -}}
{{- end -}}

{{/* The chart's Secret of connection settings: only needed when some external* block has no existingSecret. */}}
{{- define "mast.secretName" -}}{{ include "mast.fullname" . }}-connections{{- end -}}

{{- define "mast.useChartSecret.database" -}}
{{- if or .Values.postgresql.enabled (not .Values.externalDatabase.existingSecret) }}true{{ end -}}
{{- end -}}
{{- define "mast.useChartSecret.redis" -}}
{{- if or .Values.redis.enabled (not .Values.externalRedis.existingSecret) }}true{{ end -}}
{{- end -}}
{{- define "mast.useChartSecret.s3" -}}
{{- if or .Values.minio.enabled (not .Values.externalS3.existingSecret) }}true{{ end -}}
{{- end -}}

{{/* The data of the services' connections Secret (the migration hook's Secret repeats its database-url). */}}
{{- define "mast.connectionsData" -}}
{{- if include "mast.useChartSecret.database" . }}
database-url: {{ include "mast.databaseUrl" . | b64enc | quote }}
{{- end }}
{{- if include "mast.useChartSecret.redis" . }}
redis-url: {{ include "mast.redisUrl" . | b64enc | quote }}
{{- end }}
{{- if include "mast.useChartSecret.s3" . }}
{{- include "mast.generatePasswords" . }}
{{- if .Values.minio.enabled }}
s3-access-key-id: {{ .Values.minio.rootUser | b64enc | quote }}
s3-secret-access-key: {{ .Values.minio.rootPassword | b64enc | quote }}
{{- else }}
{{- if not (and .Values.externalS3.accessKeyId .Values.externalS3.secretAccessKey) }}
{{- fail "S3 credentials are required: set externalS3.existingSecret (or externalS3.accessKeyId and externalS3.secretAccessKey), or minio.enabled=true for a trial" }}
{{- end }}
s3-access-key-id: {{ .Values.externalS3.accessKeyId | b64enc | quote }}
s3-secret-access-key: {{ .Values.externalS3.secretAccessKey | b64enc | quote }}
{{- end }}
{{- end }}
{{- end -}}

{{/* An env entry read from a Secret key. Argument: (list "NAME" "secret" "key") */}}
{{- define "mast.secretEnv" -}}
- name: {{ index . 0 }}
  valueFrom:
    secretKeyRef:
      name: {{ index . 1 }}
      key: {{ index . 2 }}
{{- end -}}

{{/* The variables every Mast process reads (httpConfig). */}}
{{- define "mast.env.http" -}}
- name: MAST_HOST
  value: "0.0.0.0"
- name: MAST_PORT
  value: {{ include "mast.port" . | quote }}
- name: MAST_LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
{{- end -}}

{{/* databaseConfig: the URL from externalDatabase.existingSecret or the chart's Secret. */}}
{{- define "mast.env.database" -}}
{{- if include "mast.useChartSecret.database" . -}}
{{ include "mast.secretEnv" (list "MAST_BACKEND_STORE_URI" (include "mast.secretName" .) "database-url") }}
{{- else -}}
{{ include "mast.secretEnv" (list "MAST_BACKEND_STORE_URI" .Values.externalDatabase.existingSecret .Values.externalDatabase.existingSecretKey) }}
{{- end -}}
{{- end -}}

{{/* redisConfig */}}
{{- define "mast.env.redis" -}}
{{- if include "mast.useChartSecret.redis" . -}}
{{ include "mast.secretEnv" (list "REDIS_URL" (include "mast.secretName" .) "redis-url") }}
{{- else -}}
{{ include "mast.secretEnv" (list "REDIS_URL" .Values.externalRedis.existingSecret .Values.externalRedis.existingSecretKey) }}
{{- end -}}
{{- end -}}

{{/* artifactLocationConfig: the proxy's destination, `s3://<bucket>/<prefix>`. */}}
{{- define "mast.env.artifactLocation" -}}
{{- $bucket := ternary .Values.minio.bucket .Values.externalS3.bucket .Values.minio.enabled -}}
{{- if not $bucket -}}
{{- fail "An artifact bucket is required: set externalS3.bucket, or minio.enabled=true for a trial" -}}
{{- end -}}
- name: MAST_ARTIFACTS_DESTINATION
  value: {{ printf "s3://%s/%s" $bucket (.Values.externalS3.prefix | trimAll "/") | trimSuffix "/" | quote }}
{{- end -}}

{{/* s3Config: endpoint, region, style and the key pair. */}}
{{- define "mast.env.s3" -}}
{{- $s3 := .Values.externalS3 -}}
{{- $endpoint := ternary (printf "http://%s-minio:9000" (include "mast.fullname" .)) $s3.endpoint .Values.minio.enabled -}}
{{- if $endpoint }}
- name: MAST_S3_ENDPOINT_URL
  value: {{ $endpoint | quote }}
{{- end }}
- name: AWS_REGION
  value: {{ $s3.region | quote }}
{{- if or .Values.minio.enabled (not (kindIs "invalid" $s3.pathStyle)) }}
- name: MAST_S3_PATH_STYLE
  value: {{ or .Values.minio.enabled $s3.pathStyle | quote }}
{{- end }}
{{- if include "mast.useChartSecret.s3" . }}
{{ include "mast.secretEnv" (list "AWS_ACCESS_KEY_ID" (include "mast.secretName" .) "s3-access-key-id") }}
{{ include "mast.secretEnv" (list "AWS_SECRET_ACCESS_KEY" (include "mast.secretName" .) "s3-secret-access-key") }}
{{- else }}
{{ include "mast.secretEnv" (list "AWS_ACCESS_KEY_ID" $s3.existingSecret $s3.existingSecretAccessKeyIdKey) }}
{{ include "mast.secretEnv" (list "AWS_SECRET_ACCESS_KEY" $s3.existingSecret $s3.existingSecretSecretAccessKeyKey) }}
{{- end }}
{{- end -}}

{{/* A security context: the chart-wide defaults with the component's overrides merged over them. */}}
{{- define "mast.securityContext" -}}
{{- toYaml (mergeOverwrite (deepCopy .defaults) (.overrides | default dict)) -}}
{{- end -}}

{{/*
A Mast component's Deployment: one container `<component>` listening on port `http`, probes on the
routes every Mast process serves (/health liveness, /ready readiness; a startup probe on /health covers
the wait for PostgreSQL, MAST_DB_STARTUP_TIMEOUT 300 s by default), a writable /tmp, the hardened
security contexts. Argument: (dict "root" $ "component" "tracking" "values" .Values.tracking
"env" <YAML list> ["serviceAccountName" name "automountToken" bool "volumes" <YAML> "volumeMounts" <YAML>])
*/}}
{{- define "mast.deployment" -}}
{{- $root := .root -}}
{{- $values := .values -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "mast.componentName" . }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "mast.labels" . | nindent 4 }}
spec:
  {{- if not $values.autoscaling.enabled }}
  replicas: {{ $values.replicaCount }}
  {{- end }}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      {{- include "mast.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "mast.labels" . | nindent 8 }}
      annotations:
        {{- /* Pods restart when the connection settings change. */}}
        checksum/connections: {{ include "mast.connectionsData" $root | sha256sum }}
        {{- with $values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ .serviceAccountName | default (include "mast.serviceAccountName" $root) }}
      automountServiceAccountToken: {{ .automountToken | default false }}
      {{- with $root.Values.global.imagePullSecrets }}
      imagePullSecrets:
        {{- range . }}
        - name: {{ . }}
        {{- end }}
      {{- end }}
      securityContext:
        {{- include "mast.securityContext" (dict "defaults" $root.Values.podSecurityContext "overrides" $values.podSecurityContext) | nindent 8 }}
      containers:
        - name: {{ .component }}
          image: {{ include "mast.image" (dict "root" $root "image" $values.image) }}
          imagePullPolicy: {{ $values.image.pullPolicy }}
          securityContext:
            {{- include "mast.securityContext" (dict "defaults" $root.Values.containerSecurityContext "overrides" $values.containerSecurityContext) | nindent 12 }}
          ports:
            - name: http
              containerPort: {{ include "mast.port" $root }}
              protocol: TCP
          env:
            {{- include "mast.env.http" $root | nindent 12 }}
            {{- .env | nindent 12 }}
            {{- with $values.extraEnv }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          startupProbe:
            httpGet: { path: /health, port: http }
            periodSeconds: 5
            failureThreshold: 66
          livenessProbe:
            httpGet: { path: /health, port: http }
            periodSeconds: 10
            timeoutSeconds: 5
            failureThreshold: 3
          readinessProbe:
            httpGet: { path: /ready, port: http }
            periodSeconds: 5
            timeoutSeconds: 5
            failureThreshold: 3
          resources:
            {{- toYaml $values.resources | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
            {{- with .volumeMounts }}
            {{- . | nindent 12 }}
            {{- end }}
      volumes:
        - name: tmp
          emptyDir: {}
        {{- with .volumes }}
        {{- . | nindent 8 }}
        {{- end }}
      {{- with $values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $values.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end -}}

{{/* A component's ClusterIP Service on port `http`. Argument: (dict "root" $ "component" "tracking" "values" .Values.tracking) */}}
{{- define "mast.service" -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "mast.componentName" . }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "mast.labels" . | nindent 4 }}
spec:
  type: {{ .values.service.type }}
  selector:
    {{- include "mast.selectorLabels" . | nindent 4 }}
  ports:
    - name: http
      port: {{ .values.service.port }}
      targetPort: http
      protocol: TCP
{{- end -}}

{{/* A component's HorizontalPodAutoscaler, when enabled. */}}
{{- define "mast.hpa" -}}
{{- if .values.autoscaling.enabled -}}
{{- if gt (int .values.autoscaling.minReplicas) (int .values.autoscaling.maxReplicas) -}}
{{- fail (printf "%s: autoscaling.minReplicas (%d) is above autoscaling.maxReplicas (%d)" .component (int .values.autoscaling.minReplicas) (int .values.autoscaling.maxReplicas)) -}}
{{- end -}}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ include "mast.componentName" . }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "mast.labels" . | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ include "mast.componentName" . }}
  minReplicas: {{ .values.autoscaling.minReplicas }}
  maxReplicas: {{ .values.autoscaling.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ .values.autoscaling.targetCPUUtilizationPercentage }}
{{- end -}}
{{- end -}}

{{/*
A component's PodDisruptionBudget, only with more than one replica: minAvailable 1 on a single replica
would block node drains.
*/}}
{{- define "mast.pdb" -}}
{{- $replicas := ternary .values.autoscaling.minReplicas .values.replicaCount .values.autoscaling.enabled -}}
{{- if and .values.pdb.create (gt (int $replicas) 1) -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "mast.componentName" . }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "mast.labels" . | nindent 4 }}
spec:
  {{- if not (kindIs "invalid" .values.pdb.maxUnavailable) }}
  maxUnavailable: {{ .values.pdb.maxUnavailable }}
  {{- else }}
  minAvailable: {{ .values.pdb.minAvailable }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "mast.selectorLabels" . | nindent 6 }}
{{- end -}}
{{- end -}}

{{/* A component's ServiceMonitor, when enabled and the cluster serves the CRD. */}}
{{- define "mast.serviceMonitor" -}}
{{- $monitor := .root.Values.metrics.serviceMonitor -}}
{{- if and $monitor.enabled (.root.Capabilities.APIVersions.Has "monitoring.coreos.com/v1") -}}
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: {{ include "mast.componentName" . }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "mast.labels" . | nindent 4 }}
    {{- with $monitor.labels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  selector:
    matchLabels:
      {{- include "mast.selectorLabels" . | nindent 6 }}
  namespaceSelector:
    matchNames:
      - {{ .root.Release.Namespace }}
  endpoints:
    - port: http
      path: /metrics
      interval: {{ $monitor.interval }}
      scrapeTimeout: {{ $monitor.scrapeTimeout }}
{{- end -}}
{{- end -}}

{{/* Pod selector of another component of this release (a NetworkPolicy peer). */}}
{{- define "mast.peer" -}}
- podSelector:
    matchLabels:
      {{- include "mast.selectorLabels" . | nindent 6 }}
{{- end -}}

{{/*
A component's NetworkPolicy, when enabled. Ingress on `http` from the components named in `from` (the
gateway's from anyone, or from `networkPolicy.gatewayIngressFrom` and those components), `/metrics`
from the metrics namespaces; egress to DNS, the bundled dependencies, the components named in `to`, plus `extraEgress` (external
PostgreSQL, Redis, S3, registries). Argument: (dict "root" $ "component" "tracking" "from" (list "gateway")
"to" (list) ["egress" <YAML list of extra rules>] ["anyIngress" true])
*/}}
{{- define "mast.networkPolicy" -}}
{{- $root := .root -}}
{{- $np := $root.Values.networkPolicy -}}
{{- if $np.enabled -}}
{{- /* Without these rules the policies would silently cut the pods off from their database or metrics. */ -}}
{{- $external := list -}}
{{- range $dependency, $name := dict "postgresql" "PostgreSQL" "redis" "Redis" "minio" "S3" -}}
{{- if not (index $root.Values $dependency).enabled }}{{ $external = append $external $name }}{{ end -}}
{{- end -}}
{{- if and $external (not $np.extraEgress) -}}
{{- fail (printf "networkPolicy.enabled blocks egress to the external %s: list them in networkPolicy.extraEgress (e.g. [{to: [{ipBlock: {cidr: 10.0.0.0/8}}], ports: [{port: 5432}]}])" (join ", " $external)) -}}
{{- end -}}
{{- if and $root.Values.metrics.serviceMonitor.enabled (not $np.metricsNamespaceSelector) -}}
{{- fail "networkPolicy.enabled blocks Prometheus from the ServiceMonitors' /metrics: set networkPolicy.metricsNamespaceSelector to Prometheus' namespace (e.g. {matchLabels: {kubernetes.io/metadata.name: monitoring}})" -}}
{{- end -}}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ include "mast.componentName" . }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "mast.labels" . | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      {{- include "mast.selectorLabels" . | nindent 6 }}
  policyTypes: [Ingress, Egress]
  ingress:
    {{- if .anyIngress }}
    - ports:
        - port: http
      {{- with $np.gatewayIngressFrom }}
      from:
        {{- toYaml . | nindent 8 }}
        {{- range $.from }}
        {{- include "mast.peer" (dict "root" $root "component" .) | nindent 8 }}
        {{- end }}
      {{- end }}
    {{- else if .from }}
    - ports:
        - port: http
      from:
        {{- range .from }}
        {{- include "mast.peer" (dict "root" $root "component" .) | nindent 8 }}
        {{- end }}
    {{- end }}
    {{- with $np.metricsNamespaceSelector }}
    - ports:
        - port: http
      from:
        - namespaceSelector:
            {{- toYaml . | nindent 12 }}
    {{- end }}
  egress:
    - ports:
        - { port: 53, protocol: UDP }
        - { port: 53, protocol: TCP }
    {{- if .to }}
    - ports:
        - port: http
      to:
        {{- range .to }}
        {{- include "mast.peer" (dict "root" $root "component" .) | nindent 8 }}
        {{- end }}
    {{- end }}
    {{- range $dependency, $port := dict "postgresql" 5432 "redis" 6379 "minio" 9000 }}
    {{- if (index $root.Values $dependency).enabled }}
    - ports:
        - port: {{ $port }}
      to:
        {{- include "mast.peer" (dict "root" $root "component" $dependency) | nindent 8 }}
    {{- end }}
    {{- end }}
    {{- with .egress }}
    {{- . | nindent 4 }}
    {{- end }}
    {{- with $np.extraEgress }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end -}}
{{- end -}}

{{/*
A bundled trial dependency: one pod (Deployment, Recreate), data in an emptyDir, a ClusterIP Service.
Argument: (dict "root" $ "component" "redis" "values" .Values.redis "port" 6379 "user" 999
"container" <YAML: command/args/env> "mounts" (list (list "name" "/path")))
*/}}
{{- define "mast.bundled" -}}
{{- $root := .root -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "mast.componentName" . }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "mast.labels" . | nindent 4 }}
spec:
  replicas: 1
  strategy:
    type: Recreate
  selector:
    matchLabels:
      {{- include "mast.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "mast.labels" . | nindent 8 }}
    spec:
      automountServiceAccountToken: false
      securityContext:
        {{- include "mast.securityContext" (dict "defaults" $root.Values.podSecurityContext "overrides" (dict "runAsUser" .user "runAsGroup" .user "fsGroup" .user)) | nindent 8 }}
      containers:
        - name: {{ .component }}
          image: {{ .values.image }}
          securityContext:
            {{- include "mast.securityContext" (dict "defaults" $root.Values.containerSecurityContext) | nindent 12 }}
          {{- .container | nindent 10 }}
          ports:
            - name: {{ .component }}
              containerPort: {{ .port }}
          readinessProbe:
            tcpSocket: { port: {{ .port }} }
            periodSeconds: 5
          resources:
            {{- toYaml .values.resources | nindent 12 }}
          volumeMounts:
            {{- range .mounts }}
            - name: {{ index . 0 }}
              mountPath: {{ index . 1 }}
            {{- end }}
      volumes:
        {{- range .mounts }}
        - name: {{ index . 0 }}
          emptyDir: {}
        {{- end }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ include "mast.componentName" . }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "mast.labels" . | nindent 4 }}
spec:
  selector:
    {{- include "mast.selectorLabels" . | nindent 4 }}
  ports:
    - name: {{ .component }}
      port: {{ .port }}
      targetPort: {{ .port }}
{{- end -}}
