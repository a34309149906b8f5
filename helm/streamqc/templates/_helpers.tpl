{{/* The chart name, overridable. */}}
{{- define "streamqc.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The full name of the release's objects. */}}
{{- define "streamqc.fullname" -}}
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

{{- define "streamqc.operatorName" -}}
{{- printf "%s-operator" (include "streamqc.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "streamqc.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/part-of: streamqc
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}

{{/* Selector labels of the operator's pods. */}}
{{- define "streamqc.operatorSelectorLabels" -}}
app.kubernetes.io/name: {{ include "streamqc.name" . }}-operator
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end -}}

{{/* Labels every analyzer pod carries (operator/analyzer-pod.ts labelsFor), whatever its monitor. */}}
{{- define "streamqc.analyzerSelectorLabels" -}}
app.kubernetes.io/component: analyzer
app.kubernetes.io/part-of: streamqc
app.kubernetes.io/managed-by: streamqc-operator
{{- end -}}

{{/*
Namespaces whose analyzer pods get the chart's NetworkPolicy (a NetworkPolicy covers its own
namespace only), as JSON: networkPolicy.analyzer.namespaces, else watchNamespaces, else the
release namespace.
*/}}
{{- define "streamqc.analyzerPolicyNamespaces" -}}
{{- .Values.networkPolicy.analyzer.namespaces | default .Values.watchNamespaces | default (list .Release.Namespace) | toJson -}}
{{- end -}}

{{- define "streamqc.operatorLabels" -}}
{{ include "streamqc.labels" . }}
{{ include "streamqc.operatorSelectorLabels" . }}
{{- end -}}

{{- define "streamqc.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "streamqc.operatorName" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/*
What the operator does to StreamMonitors and what they own, in one list so the cluster-wide
ClusterRole and every namespaced Role grant exactly the same (operator/reconcile.ts,
operator/controller.ts, operator/events.ts).
*/}}
{{- define "streamqc.operatorRules" -}}
- apiGroups: ["streamqc.io"]
  resources: ["streammonitors"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["streamqc.io"]
  resources: ["streammonitors/status"]
  verbs: ["get", "update", "patch"]
# Owner references with blockOwnerDeletion need this where OwnerReferencesPermissionEnforcement runs.
- apiGroups: ["streamqc.io"]
  resources: ["streammonitors/finalizers"]
  verbs: ["update"]
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["get", "list", "watch", "create", "delete"]
# list and watch: the operator keeps an informer of the analyzer ConfigMaps it owns.
- apiGroups: [""]
  resources: ["configmaps"]
  verbs: ["get", "list", "watch", "create", "update"]
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create", "patch"]
{{- end -}}
