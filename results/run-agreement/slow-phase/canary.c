#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
/* compute-bound: dependent FMA chain; memory-bound: stride over 64 MiB */
int main(int argc,char**argv){
  int tries=argc>1?atoi(argv[1]):30;
  size_t n=(64u<<20)/sizeof(double); double*a=malloc(n*sizeof*a); for(size_t i=0;i<n;i++)a[i]=i;
  double best_c=1e9,best_m=1e9, cs[1000], ms[1000];
  volatile double sink=0;
  for(int t=0;t<tries;t++){
    double x=1.0,t0=now();
    for(int i=0;i<2000000;i++) x=x*1.0000001+1e-9;
    double dc=now()-t0; sink+=x;
    t0=now(); double s=0; for(size_t i=0;i<n;i+=8) s+=a[i];
    double dm=now()-t0; sink+=s;
    cs[t]=dc; ms[t]=dm; if(dc<best_c)best_c=dc; if(dm<best_m)best_m=dm;
  }
  /* median */
  for(int i=0;i<tries;i++)for(int j=i+1;j<tries;j++){if(cs[j]<cs[i]){double q=cs[i];cs[i]=cs[j];cs[j]=q;} if(ms[j]<ms[i]){double q=ms[i];ms[i]=ms[j];ms[j]=q;}}
  printf("%.3f %.3f %.3f %.3f\n",best_c*1e3,cs[tries/2]*1e3,best_m*1e3,ms[tries/2]*1e3);
  return 0;
}
