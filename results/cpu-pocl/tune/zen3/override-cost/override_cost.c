#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <clblast_c.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+1e-9*t.tv_nsec;}
int main(void){
  cl_platform_id p; cl_device_id d; cl_int st;
  clGetPlatformIDs(1,&p,NULL); clGetDeviceIDs(p,CL_DEVICE_TYPE_ALL,1,&d,NULL);
  cl_context c=clCreateContext(NULL,1,&d,NULL,NULL,&st); cl_command_queue q=clCreateCommandQueue(c,d,0,&st);
  const char *names[]={"XGEMM_MIN_INDIRECT_SIZE"}; size_t v_direct[]={100000}, v_ind[]={1};
  int M=64,N=256,K=128; size_t n=(size_t)4096*4096;
  float *h=calloc(n,4); for(size_t i=0;i<n;i++)h[i]=(i%7)*0.1f;
  cl_mem a=clCreateBuffer(c,CL_MEM_COPY_HOST_PTR,n*4,h,&st), b=clCreateBuffer(c,CL_MEM_COPY_HOST_PTR,n*4,h,&st), cc=clCreateBuffer(c,CL_MEM_COPY_HOST_PTR,n*4,h,&st);
  int shapes[2][3]={{64,256,128},{4096,10,128}};
  for(int s=0;s<2;s++){ M=shapes[s][0];N=shapes[s][1];K=shapes[s][2];
   for(int path=0;path<2;path++){
    CLBlastOverrideParameters(d,"GemmRoutine",CLBlastPrecisionSingle,1,names,path?v_ind:v_direct);
    for(int w=0;w<3;w++){CLBlastSgemm(CLBlastLayoutRowMajor,CLBlastTransposeNo,CLBlastTransposeNo,M,N,K,1,a,0,K,b,0,N,0,cc,0,N,&q,NULL);} clFinish(q);
    double t0=now(); int R=20; for(int r=0;r<R;r++){CLBlastSgemm(CLBlastLayoutRowMajor,CLBlastTransposeNo,CLBlastTransposeNo,M,N,K,1,a,0,K,b,0,N,0,cc,0,N,&q,NULL);} clFinish(q);
    printf("%dx%dx%d %s: %.1f us/call\n",M,N,K,path?"indirect":"direct",(now()-t0)/R*1e6);
   }}
  /* cost of switching per call */
  M=64;N=256;K=128;
  double t0=now(); int R=2000; for(int r=0;r<R;r++) CLBlastOverrideParameters(d,"GemmRoutine",CLBlastPrecisionSingle,1,names,(r&1)?v_ind:v_direct);
  printf("OverrideParameters: %.2f us/call\n",(now()-t0)/R*1e6);
  t0=now(); R=40; for(int r=0;r<R;r++){CLBlastOverrideParameters(d,"GemmRoutine",CLBlastPrecisionSingle,1,names,(r&1)?v_ind:v_direct);CLBlastSgemm(CLBlastLayoutRowMajor,CLBlastTransposeNo,CLBlastTransposeNo,M,N,K,1,a,0,K,b,0,N,0,cc,0,N,&q,NULL);clFinish(q);}
  printf("switch + gemm + finish: %.1f us/call\n",(now()-t0)/R*1e6);
  t0=now(); for(int r=0;r<R;r++){CLBlastSgemm(CLBlastLayoutRowMajor,CLBlastTransposeNo,CLBlastTransposeNo,M,N,K,1,a,0,K,b,0,N,0,cc,0,N,&q,NULL);clFinish(q);}
  printf("gemm + finish (last path): %.1f us/call\n",(now()-t0)/R*1e6);
  return 0;}
