#!/bin/sh
# PID 1 of the kedge-web image. A shell with a trap, so SIGTERM ends the container at once (httpd as PID 1 would
# ignore it and the kubelet would wait the whole grace period). /www/pod.txt names the pod that served the request.
trap 'echo "kedge-web: stopping"; exit 0' TERM INT
hostname >/www/pod.txt 2>/dev/null || echo "read-only /www: no pod.txt"
echo "kedge-web: serving /www on :$PORT as $(id -u)"
httpd -f -vv -p "$PORT" -h /www &
wait
