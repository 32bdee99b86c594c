#!/usr/bin/env bash
# Compiles ConnectorJTest.java (into $UG_IT_STATE/java, only when it changed) and runs it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
jar=${UG_CONNECTOR_J:-/usr/share/java/mariadb-java-client.jar}
[ -r "$jar" ] || { echo "Connector/J not found at $jar (apt-get install libmariadb-java)" >&2; exit 1; }
out="$UG_IT_STATE/java"
mkdir -p "$out"
(
  # Both runs of a compare test may start this; compile once, under a lock.
  flock 9
  if [ ! -f "$out/ConnectorJTest.class" ] || [ "$here/ConnectorJTest.java" -nt "$out/ConnectorJTest.class" ]; then
    javac -nowarn -cp "$jar" -d "$out" "$here/ConnectorJTest.java"
  fi
) 9>"$out/.lock"
exec java -Xmx1g -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -cp "$out:$jar" ConnectorJTest
