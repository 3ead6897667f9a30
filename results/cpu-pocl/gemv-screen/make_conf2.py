import sys
# usage: make_conf2.py NAME WGS1 WPT1   (fast-rot switched off by WGS3=7)
name=sys.argv[1]; w,p=map(int,sys.argv[2:4])
head="[device=pthread-skylake-avx512-AMD EPYC|driver=3.1+debian|precision=fp32|kernel=%s]\nuse_defaults = 0\n"
out=head%"XgemvFastRot"+"VW3 = 1\nWGS3 = 7\nWPT3 = 1\n\n"
out+=head%"Xgemv"+f"WGS1 = {w}\nWPT1 = {p}\n\n"
open(name+".conf","w").write(out)
