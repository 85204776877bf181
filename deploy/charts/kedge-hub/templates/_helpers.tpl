{{/* Names: <release>-kedge-hub, or the release name when it already contains the chart name. */}}
{{- define "kedge-hub.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "kedge-hub.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "kedge-hub.labels" -}}
{{ include "kedge-hub.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "kedge-hub.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "kedge-hub.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The kcp sidecar runs unless an external kcp's kubeconfig Secret is named. */}}
{{- define "kedge-hub.sidecar" -}}
{{- if not .Values.kcp.external.kubeconfigSecret }}true{{ end -}}
{{- end -}}

{{- define "kedge-hub.externalURL" -}}
{{- if .Values.externalURL -}}
{{- .Values.externalURL | trimSuffix "/" -}}
{{- else -}}
{{- printf "https://%s.%s.svc:%d" (include "kedge-hub.fullname" .) .Release.Namespace (int .Values.service.port) -}}
{{- end -}}
{{- end -}}

{{/* The host of the external URL (no port, no brackets): a name the serving certificate must cover. */}}
{{- define "kedge-hub.externalHost" -}}
{{- (urlParse (include "kedge-hub.externalURL" .)).host | regexFind "^(\\[[^\\]]*\\]|[^:]*)" | trimPrefix "[" | trimSuffix "]" -}}
{{- end -}}

{{- define "kedge-hub.tokensSecret" -}}
{{- default (printf "%s-tokens" (include "kedge-hub.fullname" .)) .Values.secrets.existingSecret -}}
{{- end -}}

{{- define "kedge-hub.tlsSecret" -}}
{{- default (printf "%s-tls" (include "kedge-hub.fullname" .)) .Values.tls.existingSecret -}}
{{- end -}}

{{- define "kedge-hub.staticTokensSecret" -}}
{{- if .Values.staticTokens.existingSecret -}}
{{- .Values.staticTokens.existingSecret -}}
{{- else if .Values.staticTokens.tokens -}}
{{- printf "%s-static-tokens" (include "kedge-hub.fullname" .) -}}
{{- end -}}
{{- end -}}

{{- define "kedge-hub.claimName" -}}
{{- default (printf "%s-kcp" (include "kedge-hub.fullname" .)) .Values.persistence.existingClaim -}}
{{- end -}}

{{- define "kedge-hub.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
