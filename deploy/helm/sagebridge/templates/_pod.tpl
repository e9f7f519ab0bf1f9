{{- define "sagebridge.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}{{ default (include "sagebridge.fullname" .) .Values.serviceAccount.name }}{{- else -}}{{ default "default" .Values.serviceAccount.name }}{{- end -}}
{{- end -}}

{{- define "sagebridge.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "sagebridge.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
privileged: false
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* ConfigMap name of one pair file. */}}
{{- define "sagebridge.pairConfigMap" -}}
{{- printf "%s-pair-%s" (include "sagebridge.fullname" .root) .pair | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Kafka connection variables (the README's configuration table; secrets come as files). */}}
{{- define "sagebridge.kafkaEnv" -}}
{{- $k := .Values.kafka -}}
- {name: KAFKA_BOOTSTRAP_SERVERS, value: {{ $k.bootstrapServers | quote }}}
- {name: KAFKA_SECURITY_PROTOCOL, value: {{ $k.securityProtocol | quote }}}
{{- if $k.saslMechanism }}
- {name: KAFKA_SASL_MECHANISM, value: {{ $k.saslMechanism | quote }}}
{{- end }}
{{- if $k.saslUsername }}
- {name: KAFKA_SASL_USERNAME, value: {{ $k.saslUsername | quote }}}
{{- end }}
{{- if $k.caSecret }}
- {name: KAFKA_SSL_CA_LOCATION, value: {{ printf "/etc/sagebridge/kafka-ca/%s" $k.caKey | quote }}}
{{- end }}
{{- range $name, $v := $k.env }}
- {name: {{ $name }}, value: {{ $v | toString | quote }}}
{{- end }}
{{- end -}}

{{/* Every variable of one workload: common, Kafka, group, service, then the fixed paths. */}}
{{- define "sagebridge.env" -}}
{{- $cfg := index .root.Values.services .svc -}}
{{- $vars := merge (dict) (default (dict) $cfg.env) (default (dict) .g.env) (default (dict) .root.Values.env) -}}
{{- include "sagebridge.kafkaEnv" .root }}
{{- range $name := keys $vars | sortAlpha }}
- {name: {{ $name }}, value: {{ index $vars $name | toString | quote }}}
{{- end }}
- {name: PAIRS_PATH, value: /etc/sagebridge/pairs}
- {name: SAGEBRIDGE_SECRETS_DIR, value: /etc/sagebridge/secrets}
- {name: OPS_PORT, value: {{ .root.Values.opsPort | quote }}}
- {name: KAFKA_GROUP_ID, value: {{ include "sagebridge.consumerGroup" (dict "svc" .svc "g" .g) | quote }}}
{{- if eq (len .g.pairs) 1 }}
- {name: PAIR_ID, value: {{ first .g.pairs | quote }}}
{{- end }}
{{- if eq .svc "ingest" }}
- {name: HTTP_PORT, value: {{ $cfg.httpPort | quote }}}
{{- end }}
{{- end -}}
