#!/bin/sh
# pel-tune writes a wisdom file that pel accepts (first line, checksum line)
# with the stencil choice it measured, and writes nothing when an FFT size or
# a stencil row is malformed. (Small rows: the default rows take seconds.)
set -e
out=$(mktemp /tmp/pel_tune_check_XXXXXX)
rm -f "$out"
./tools/pel-tune --output "$out" --fft 64,8x8 --stencil 2d5:64x96,3d7:24x24x24 > /dev/null
head -n 1 "$out" | grep -qx 'pel-wisdom 1'
tail -n 1 "$out" | grep -Eqx 'checksum [0-9a-f]{16}'
grep -q '^fingerprint ' "$out"
grep -qx 'stencil 2' "$out"
grep -Eq '^choice 64 1 96 1 0 1 2 [0-9]+ -1 0 0 5 3 8 [0-9]+ [0-9]+$' "$out"
grep -Eq '^choice 24 24 24 1 1 1 3 [0-9]+ -1 0 0 7 5 8 [0-9]+ [0-9]+$' "$out"
rm -f "$out"
for bad in 4d9:8x8 3d7:8x8 2d5:0x8 2d5; do
  if ./tools/pel-tune --output "$out" --stencil "$bad" > /dev/null 2>&1; then
    echo "pel-tune accepted the stencil row $bad"; exit 1
  fi
  test ! -e "$out"
done
if ./tools/pel-tune --output "$out" --fft 12x --stencil none > /dev/null 2>&1; then
  echo "pel-tune accepted the size 12x"; exit 1
fi
test ! -e "$out"
echo "pel-tune: ok"
