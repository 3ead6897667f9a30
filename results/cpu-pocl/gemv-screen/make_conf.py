import sys
# usage: make_conf.py NAME VW3 WGS3 WPT3 [VW2 WGS2 WPT2]
name=sys.argv[1]; v=list(map(int,sys.argv[2:]))
head="[device=pthread-skylake-avx512-AMD EPYC|driver=3.1+debian|precision=fp32|kernel=%s]\nuse_defaults = 0\n"
out=""
if v[0]:
    out+=head%"XgemvFastRot"+f"VW3 = {v[0]}\nWGS3 = {v[1]}\nWPT3 = {v[2]}\n\n"
if len(v)>3:
    out+=head%"XgemvFast"+f"VW2 = {v[3]}\nWGS2 = {v[4]}\nWPT2 = {v[5]}\n\n"
open(name+".conf","w").write(out)
