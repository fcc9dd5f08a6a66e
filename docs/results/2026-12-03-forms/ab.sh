#!/bin/sh
# A/B of this session's stencil-form changes, one quiet run.
old=/work/ab-old/_b/benchmarks/pel-bench new=/work/main/_build/benchmarks/pel-bench
export OMP_WAIT_POLICY=passive
out=/work/res/ab; mkdir -p $out
lscpu | grep "Model name" > $out/lscpu.txt
rowfn=3d7-rowfn:256x256x256:100,3d7-rowfn:256x256x256:1
for round in 1 2; do
  for ab in 0 1; do
    echo "uptime round $round ab $ab: $(uptime)" >> $out/uptime.txt
    if [ $ab = 1 ]; then AB=1 $new --kernel stencil --threads 2 --reps 3 --format json --size $rowfn > $out/rowfn-new-ab$ab-r$round.json 2>/dev/null
    else $new --kernel stencil --threads 2 --reps 3 --format json --size $rowfn > $out/rowfn-new-ab$ab-r$round.json 2>/dev/null; fi
  done
done
all=3d7-varcoef:256x256x256:100,3d25r4-wave:256x256x256:100,2d5-2field:4096x4096:100,3d7-varcoef:256x256x256:1,3d25r4-wave:256x256x256:1,2d5-2field:4096x4096:1
for bin in old new; do
  eval b=\$$bin
  echo "uptime forms $bin: $(uptime)" >> $out/uptime.txt
  AB=1 $b --kernel stencil --threads 2 --reps 3 --format json --size $all,$rowfn > $out/forms-$bin.json 2>/dev/null
done
echo "uptime end: $(uptime)" >> $out/uptime.txt
