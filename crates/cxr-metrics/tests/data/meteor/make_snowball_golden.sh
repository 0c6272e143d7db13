#!/usr/bin/env bash
# Every 8th all-lower-case word of METEOR's WordNet synset file with its stem from the jar's own
# org.tartarus.snowball.ext.englishStemmer (needs a JDK):  ./make_snowball_golden.sh <pycocoevalcap>/meteor
set -euo pipefail
JAR="$1/meteor-1.5.jar"; HERE="$(cd "$(dirname "$0")" && pwd)"; T="$(mktemp -d)"
cat > "$T/Stem.java" <<'JAVA'
import org.tartarus.snowball.ext.englishStemmer;
import java.io.*;
public class Stem {
  public static void main(String[] a) throws Exception {
    englishStemmer s = new englishStemmer();
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, "UTF-8"));
    String l;
    while ((l = in.readLine()) != null) { s.setCurrent(l); s.stem(); System.out.println(l + "\t" + s.getCurrent()); }
  }
}
JAVA
javac -cp "$JAR" -d "$T" "$T/Stem.java"
unzip -p "$JAR" synonym/english.synsets | awk 'NR % 2 == 1' | grep -x '[a-z]*' | awk 'NR % 8 == 1' \
  | java -cp "$JAR:$T" Stem | gzip -9 > "$HERE/snowball_stems.tsv.gz"
rm -rf "$T"
