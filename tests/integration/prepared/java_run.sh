#!/usr/bin/env bash
# Compiles JavaClient.java (into $UG_IT_STATE/java-prepared, only when it changed) and runs it
# with the given arguments (see JavaClient.java).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
jar=${UG_CONNECTOR_J:-/usr/share/java/mariadb-java-client.jar}
[ -r "$jar" ] || { echo "Connector/J not found at $jar (apt-get install libmariadb-java)" >&2; exit 1; }
out="$UG_IT_STATE/java-prepared"
mkdir -p "$out"
(
  flock 9  # the serialize and dedup tests may run at the same time: compile once
  if [ ! -f "$out/JavaClient.class" ] || [ "$here/JavaClient.java" -nt "$out/JavaClient.class" ]; then
    javac -nowarn -cp "$jar" -d "$out" "$here/JavaClient.java"
  fi
) 9>"$out/.lock"
exec java -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -cp "$out:$jar" JavaClient "$@"
