{{/* Chart name, at most 63 characters (a label value). */}}
{{- define "tradeplane.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name of the release's objects: RELEASE-tradeplane, or RELEASE when it holds the chart name. */}}
{{- define "tradeplane.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* The recommended app.kubernetes.io labels of every object, plus commonLabels. */}}
{{- define "tradeplane.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "tradeplane.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: tradeplane
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Labels that select the operator's pods: stable, since a selector cannot change. */}}
{{- define "tradeplane.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tradeplane.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "tradeplane.operatorSelectorLabels" -}}
{{ include "tradeplane.selectorLabels" . }}
app.kubernetes.io/component: operator
{{- end }}

{{- define "tradeplane.serviceAccountName" -}}
{{- if .Values.operator.serviceAccount.create }}
{{- default (include "tradeplane.fullname" .) .Values.operator.serviceAccount.name }}
{{- else }}
{{- required "operator.serviceAccount.name is required when operator.serviceAccount.create is false" .Values.operator.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
An image reference: registry/repository@digest, else registry/repository:tag, where the tag
falls back to image.tag and then to the chart's appVersion.
Call with (dict "root" $ "image" .Values.operator.image).
*/}}
{{- define "tradeplane.image" -}}
{{- $registry := .root.Values.image.registry }}
{{- $repository := .image.repository }}
{{- $ref := ternary (printf "%s/%s" $registry $repository) $repository (ne $registry "") }}
{{- if .image.digest }}
{{- printf "%s@%s" $ref .image.digest }}
{{- else }}
{{- printf "%s:%s" $ref (.image.tag | default .root.Values.image.tag | default .root.Chart.AppVersion) }}
{{- end }}
{{- end }}

{{/* Namespace of the helm test pod: the venue's. */}}
{{- define "tradeplane.testNamespace" -}}
{{- default .Release.Namespace .Values.tests.venue.namespace }}
{{- end }}

{{/* What the operator may do in a namespace it watches: exactly the resources it manages. */}}
{{- define "tradeplane.operatorRules" -}}
# The custom resources: read, finalizers, status.
- apiGroups: [tradeplane.io]
  resources: [tradingvenues, strategydeployments]
  verbs: [get, list, watch, patch, update]
- apiGroups: [tradeplane.io]
  resources: [tradingvenues/status, strategydeployments/status, tradingvenues/finalizers, strategydeployments/finalizers]
  verbs: [get, patch, update]
# A venue's children, applied server-side and deleted when no longer desired.
- apiGroups: [""]
  resources: [configmaps, secrets, services, serviceaccounts]
  verbs: [get, list, watch, create, patch, update, delete]
- apiGroups: [apps]
  resources: [statefulsets, deployments]
  verbs: [get, list, watch, create, patch, update, delete]
- apiGroups: [policy]
  resources: [poddisruptionbudgets]
  verbs: [get, list, watch, create, patch, update, delete]
- apiGroups: [networking.k8s.io]
  resources: [networkpolicies]
  verbs: [get, list, watch, create, patch, update, delete]
# The journal's embedded database volume: created once, never deleted by the operator
# (with deletionPolicy Delete the garbage collector removes it with the venue).
- apiGroups: [""]
  resources: [persistentvolumeclaims]
  verbs: [get, list, watch, create, patch]
# Engine pods: watched for readiness, deleted one at a time to roll them (OnDelete).
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list, watch, delete]
- apiGroups: [""]
  resources: [events]
  verbs: [create, patch]
{{- end }}
