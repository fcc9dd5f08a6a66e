#!/bin/sh
# pel-tune writes a wisdom file that pel accepts (first line, checksum line),
# and writes nothing when an FFT size is malformed.
set -e
out=$(mktemp /tmp/pel_tune_check_XXXXXX)
rm -f "$out"
./tools/pel-tune --output "$out" --fft 64,8x8 > /dev/null
head -n 1 "$out" | grep -qx 'pel-wisdom 1'
tail -n 1 "$out" | grep -Eqx 'checksum [0-9a-f]{16}'
grep -q '^fingerprint ' "$out"
rm -f "$out"
if ./tools/pel-tune --output "$out" --fft 12x > /dev/null 2>&1; then
  echo "pel-tune accepted the size 12x"; exit 1
fi
test ! -e "$out"
echo "pel-tune: ok"
