{{/* The release's base name: the release name, or <release>-kedge-agent when it does not contain the chart name. */}}
{{- define "kedge-agent.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "kedge-agent.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "kedge-agent.labels" -}}
{{ include "kedge-agent.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "kedge-agent.serviceAccountName" -}}
{{- default (include "kedge-agent.fullname" .) .Values.serviceAccount.name -}}
{{- end -}}

{{- define "kedge-agent.leaseName" -}}
{{- default (include "kedge-agent.fullname" .) .Values.leaderElection.leaseName -}}
{{- end -}}

{{- define "kedge-agent.credentialSecret" -}}
{{- default (printf "%s-credential" (include "kedge-agent.fullname" .)) .Values.credential.secretName -}}
{{- end -}}

{{- define "kedge-agent.joinSecret" -}}
{{- if .Values.joinToken.existingSecret -}}
{{- .Values.joinToken.existingSecret -}}
{{- else -}}
{{- printf "%s-join" (include "kedge-agent.fullname" .) -}}
{{- end -}}
{{- end -}}
