{{/* Chart name, overridable. */}}
{{- define "sagebridge.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Release-scoped base name for every object. */}}
{{- define "sagebridge.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "sagebridge.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "sagebridge.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Kubernetes recommended labels shared by every object. */}}
{{- define "sagebridge.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "sagebridge.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: sagebridge
{{- end -}}

{{/* Selector labels of one workload: service x pair group. Call with (dict "root" $ "svc" "ingest" "group" "g"). */}}
{{- define "sagebridge.selectorLabels" -}}
app.kubernetes.io/name: {{ include "sagebridge.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .svc }}
sagebridge.io/pair-group: {{ .group }}
{{- end -}}

{{/* Name of one workload (Deployment, its Service, PDB, scaler, policy). */}}
{{- define "sagebridge.workloadName" -}}
{{- printf "%s-%s-%s" (include "sagebridge.fullname" .root) .svc .group | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Image of one service: <registry>/<repository>/<service>:<tag>. */}}
{{- define "sagebridge.image" -}}
{{- $img := .root.Values.image -}}
{{- $repo := printf "%s/%s" $img.repository .svc -}}
{{- if $img.registry }}{{ $repo = printf "%s/%s" $img.registry $repo }}{{ end -}}
{{- $digest := index (default (dict) $img.digests) .svc -}}
{{- if $digest -}}
{{- printf "%s@%s" $repo $digest -}}
{{- else -}}
{{- printf "%s:%s" $repo (default .root.Chart.AppVersion $img.tag) -}}
{{- end -}}
{{- end -}}

{{/* Name of the Secret holding the Kafka credential files. */}}
{{- define "sagebridge.kafkaSecret" -}}
{{- if .Values.kafka.existingSecret -}}{{ .Values.kafka.existingSecret }}{{- else -}}{{ printf "%s-kafka" (include "sagebridge.fullname" .) }}{{- end -}}
{{- end -}}

{{/* True when a Kafka Secret is mounted (chart-made or existing). */}}
{{- define "sagebridge.hasKafkaSecret" -}}
{{- if or .Values.kafka.existingSecret .Values.kafka.saslPassword .Values.kafka.sslKeyPassword -}}true{{- end -}}
{{- end -}}

{{/* Name of the Secret holding a pair group's credential files. Call with (dict "root" $ "g" $group). */}}
{{- define "sagebridge.groupSecret" -}}
{{- if .g.existingSecret -}}{{ .g.existingSecret }}{{- else -}}{{ printf "%s-%s" (include "sagebridge.fullname" .root) .g.name | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- end -}}

{{/* The services a pair group runs: its own list, else every enabled service. */}}
{{- define "sagebridge.groupServices" -}}
{{- $out := list -}}
{{- range $svc := (default (keys .root.Values.services | sortAlpha) .g.services) -}}
{{- if (index $.root.Values.services $svc).enabled -}}{{- $out = append $out $svc -}}{{- end -}}
{{- end -}}
{{- toJson $out -}}
{{- end -}}

{{/* Consumer group of one workload: the service default for one pair, else per group. */}}
{{- define "sagebridge.consumerGroup" -}}
{{- if eq (len .g.pairs) 1 -}}
{{- printf "sagebridge.%s.%s" .svc (first .g.pairs) -}}
{{- else -}}
{{- printf "sagebridge.%s.%s" .svc .g.name -}}
{{- end -}}
{{- end -}}

{{/* Which side a service talks to besides the broker: store, erp or none. */}}
{{- define "sagebridge.targetSide" -}}
{{- if has .svc (list "ingest" "storefront-writer") -}}store{{- else if has .svc (list "erp-writer" "erp-cdc") -}}erp{{- else -}}none{{- end -}}
{{- end -}}
