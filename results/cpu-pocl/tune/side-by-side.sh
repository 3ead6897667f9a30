#!/bin/bash
# Each search's chosen GEMM, timed side by side in fresh processes (3 rounds, order reversed each round).
export POCL_CACHE_DIR="${POCL_CACHE_DIR:-/tmp/pocl-cache}"
B="${CLBATCH:-build/clbatch}"
T0="1048576 time XgemmDirect WGD=64,MDIMCD=16,NDIMCD=8,MDIMAD=8,NDIMBD=8,KWID=16,VWMD=2,VWND=4,PADA=0,PADB=1"
T5="1048576 time XgemmDirect WGD=64,MDIMCD=8,NDIMCD=8,MDIMAD=8,NDIMBD=8,KWID=16,VWMD=8,VWND=1,PADA=0,PADB=1"
T4="0 time Xgemm GEMMK=0,KREG=1,KWG=32,KWI=2,MDIMA=16,MDIMC=8,MWG=128,NDIMB=8,NDIMC=8,NWG=64,SA=0,SB=0,STRM=0,STRN=1,VWM=8,VWN=8"
D="clblast time - -"
names=(clblast-default old-60s-per-kernel old-240s-per-kernel new-480s)
cfgs=("$D" "$T0" "$T5" "$T4")
for c in "${cfgs[@]}"; do $B __tune-config 0:0 fp32 256 64 256 42 $c >/dev/null; done  # compile once
for round in 1 2 3; do
  order=(0 1 2 3); [ $((round % 2)) -eq 0 ] && order=(3 2 1 0)
  for i in "${order[@]}"; do echo "round $round ${names[$i]} $($B __tune-config 0:0 fp32 256 64 256 42 ${cfgs[$i]})"; done
done
$B peak --device pocl
